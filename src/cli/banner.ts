import type { KeylessServer } from '../server/create-server.js';

/** What a person needs after `npm start`: where everything is, and what is enforced. */
export function banner(s: KeylessServer): string {
  const e = s.endpoints;
  const lines = [
    '',
    '  Keyless — managed identities without a cloud',
    '',
    `  Tenant           ${s.tenantId}`,
    `  Subscription     ${s.subscriptionId}`,
    `  Resource Manager ${e.resourceManager}   (token audience ${e.armAudience})`,
    `  Authority        ${e.authority}   (ADFS-style: ${e.authorityHost}/adfs)`,
    `  OpenID config    ${e.openIdConfiguration}`,
    `  JWKS             ${e.jwksUri}`,
    `  Token issuer     ${e.issuer}`,
    `  IMDS             one listener per VM on 127.77.x.y:${s.config.imdsPort || '<ephemeral>'}  ('keyless env --vm NAME')`,
    `  App Service      ${e.appServiceIdentityEndpoint}   (web apps' IDENTITY_ENDPOINT: 'keyless env --app NAME')`,
    `  CA certificate   ${s.caFile}   (NODE_EXTRA_CA_CERTS)`,
    `  CA bundle        ${s.caBundleFile}   (REQUESTS_CA_BUNDLE)`,
    `  Admin credential ${s.adminFile}   (client id ${s.admin.clientId})`,
    `  Store            ${s.store.dialect} ${s.store.location}`,
    `  Authorization    ${s.authzMode === 'enforce' ? 'enforced (Azure RBAC)' : s.authzMode === 'audit' ? 'AUDIT ONLY — denials are logged, not enforced' : 'OFF — every authenticated call is allowed'}${propagation(s)}`,
    '',
  ];
  return lines.join('\n');
}

/** Shown only when the fidelity option is on: otherwise changes apply on the next request, as expected. */
function propagation(s: KeylessServer): string {
  const d = s.config.authzPropagationDelaySec;
  return d > 0 ? `; changes take effect after ${d} s (emulated propagation delay)` : '';
}

export function readyJson(s: KeylessServer): string {
  return JSON.stringify({
    ready: true,
    pid: process.pid,
    tenantId: s.tenantId,
    subscriptionId: s.subscriptionId,
    endpoints: s.endpoints,
    caFile: s.caFile,
    caBundleFile: s.caBundleFile,
    adminFile: s.adminFile,
    adminClientId: s.admin.clientId,
    authorization: s.authzMode,
    authorizationPropagationDelaySec: s.config.authzPropagationDelaySec,
    store: s.store.dialect,
  });
}
