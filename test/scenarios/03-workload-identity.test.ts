import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { serveKeyless, type ServedKeyless } from '../support/cli.js';
import { lastJson } from '../support/child.js';

const APP = path.resolve(import.meta.dirname, '../compat/node/apps/workload-token.mjs');
const SCOPE = 'https://vault.azure.net/.default';
const SUBJECT = 'repo:contoso/app:ref:refs/heads/main';
// Prints what the workload-identity webhook would have given a pod, and the token file's mode.
const INSPECT = [
  "const fs = require('fs');",
  'const f = process.env.AZURE_FEDERATED_TOKEN_FILE;',
  "const pick = ['AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_AUTHORITY_HOST', 'NODE_EXTRA_CA_CERTS', 'REQUESTS_CA_BUNDLE'];",
  "console.log(JSON.stringify({ file: f, mode: fs.statSync(f).mode & 0o777, dirMode: fs.statSync(require('path').dirname(f)).mode & 0o777, token: fs.readFileSync(f, 'utf8'), env: Object.fromEntries(pick.map((k) => [k, process.env[k]])) }));",
].join(' ');

/**
 * Scenario 03 — workload identity federation on a laptop (issue 6): an app written for AKS workload identity
 * runs unmodified under `keyless run --workload-identity`. It fails until the identity trusts Keyless's issuer
 * for the app's subject, then gets the identity's tokens; the token file never outlives the app.
 */
describe('scenario 03: workload identity through `keyless run --workload-identity`', () => {
  let k: ServedKeyless;
  let identity: { id: string; clientId: string; principalId: string };
  const arm = async (method: string, p: string, body?: unknown) => {
    const { Connection } = await import('../../src/cli/connection.js');
    return Connection.open(k.dataDir).arm(method, p, body);
  };
  const runApp = (mode: 'mi' | 'dac' | 'wi', subject = SUBJECT) =>
    k.cli(['run', '--workload-identity', 'app-wi', '--subject', subject, '--', process.execPath, APP, mode, SCOPE]);

  beforeAll(async () => {
    k = await serveKeyless();
  }, 90_000);
  afterAll(async () => k?.stop());

  it('step 1: the ready line names the workload issuer, which serves OIDC discovery and its JWKS', async () => {
    const issuer = k.ready.endpoints.workloadIdentityIssuer as string;
    expect(issuer).toBe(`${k.ready.endpoints.authorityHost}/keyless/oidc/${k.ready.tenantId}`);
    const d = await fetch(`${issuer}/.well-known/openid-configuration`);
    expect(d.status).toBe(200);
    const doc = (await d.json()) as { issuer: string; jwks_uri: string };
    expect(doc.issuer).toBe(issuer);
    expect((await fetch(doc.jwks_uri)).status).toBe(200);
  });

  it('step 2: `keyless apply` creates the user-assigned identity', async () => {
    const file = path.join(k.dataDir, 'env.yaml');
    fs.writeFileSync(file, ['location: westeurope', 'resourceGroups:', '  wi-rg:', '    userAssignedIdentities:', '      app-wi: {}', ''].join('\n'));
    const r = await k.cli(['apply', file]);
    expect(r.code, r.stderr).toBe(0);
    const uai = await arm('GET', `/subscriptions/${k.ready.subscriptionId}/resourceGroups/wi-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app-wi?api-version=2023-01-31`);
    identity = { id: uai.id, clientId: uai.properties.clientId, principalId: uai.properties.principalId };
  });

  it('step 3: the child gets the AKS environment and a 0600 token file from the issuer; the file is gone afterwards', async () => {
    const r = await k.cli(['run', '--workload-identity', 'app-wi', '--subject', SUBJECT, '--', process.execPath, '-e', INSPECT]);
    expect(r.code, r.stderr).toBe(0);
    const out = lastJson(r.stdout);
    expect(out.mode).toBe(0o600);
    expect(out.dirMode).toBe(0o700);
    expect(out.env).toEqual({
      AZURE_CLIENT_ID: identity.clientId,
      AZURE_TENANT_ID: k.ready.tenantId,
      AZURE_AUTHORITY_HOST: k.ready.endpoints.authorityHost,
      NODE_EXTRA_CA_CERTS: k.ready.caFile,
      REQUESTS_CA_BUNDLE: k.ready.caBundleFile,
    });
    const claims = decodeJwt(out.token);
    expect(claims.iss).toBe(k.ready.endpoints.workloadIdentityIssuer);
    expect(claims.sub).toBe(SUBJECT);
    expect(claims.aud).toEqual(['api://AzureADTokenExchange']);
    expect(Number(claims.exp) - Number(claims.iat)).toBeLessThanOrEqual(3600);
    expect(fs.existsSync(out.file)).toBe(false);
    expect(fs.existsSync(path.dirname(out.file))).toBe(false);
  });

  it('step 4 (negative): without a federated credential the exchange fails with AADSTS70021 — that is the point', async () => {
    const r = await runApp('mi');
    expect(r.code, r.stderr).toBe(0);
    const out = lastJson(r.stdout);
    expect(out.ok).toBe(false);
    expect(out.message).toContain('AADSTS70021');
    expect(out.message).toContain(`Assertion Subject: '${SUBJECT}'`);
  });

  it('step 5: after the identity trusts Keyless for the subject, the unmodified app gets the identity token', async () => {
    await arm('PUT', `${identity.id}/federatedIdentityCredentials/laptop?api-version=2023-01-31`, {
      properties: { issuer: k.ready.endpoints.workloadIdentityIssuer, subject: SUBJECT, audiences: ['api://AzureADTokenExchange'] },
    });
    for (const mode of ['mi', 'wi'] as const) {
      const r = await runApp(mode);
      expect(r.code, r.stderr).toBe(0);
      const out = lastJson(r.stdout);
      expect(out.ok, out.message).toBe(true);
      const { payload } = await jwtVerify(out.token, createRemoteJWKSet(new URL(k.ready.endpoints.jwksUri)), { issuer: k.ready.endpoints.issuer, audience: 'https://vault.azure.net' });
      expect(payload['oid']).toBe(identity.principalId);
      expect(String(payload['xms_mirid']).toLowerCase()).toBe(identity.id.toLowerCase());
    }
  });

  it('step 6: DefaultAzureCredential works from the environment alone', async () => {
    const out = lastJson((await runApp('dac')).stdout);
    expect(out.ok, out.message).toBe(true);
    expect(decodeJwt(out.token)['oid']).toBe(identity.principalId);
  }, 120_000);

  it('step 7 (negative): another subject is refused with AADSTS700213', async () => {
    const out = lastJson((await runApp('mi', 'repo:contoso/app:pull_request')).stdout);
    expect(out.ok).toBe(false);
    expect(out.message).toContain('AADSTS700213');
  });

  it('step 8: --explain says where the token file is and where it is exchanged', async () => {
    const r = await k.cli(['run', '--workload-identity', identity.id, '--subject', SUBJECT, '--explain', '--', 'true']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('AZURE_FEDERATED_TOKEN_FILE');
    expect(r.stderr).toContain(identity.id);
  });

  it('step 9 (negative): usage mistakes exit 2 with a clear message', async () => {
    const noSubject = await k.cli(['run', '--workload-identity', 'app-wi', '--', 'true']);
    expect(noSubject.code).toBe(2);
    expect(noSubject.stderr).toMatch(/needs --subject/);
    const both = await k.cli(['run', '--vm', 'x', '--workload-identity', 'app-wi', '--subject', 's', '--', 'true']);
    expect(both.code).toBe(2);
    const unknown = await k.cli(['run', '--workload-identity', 'nope-wi', '--subject', 's', '--', 'true']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no user-assigned identity named 'nope-wi'/);
  });
});
