import type { AccessControl } from '../core/access.js';
import type { Clock } from '../core/clock.js';
import { KeylessError } from '../core/errors.js';
import type { Directory } from '../directory/index.js';
import type { ResourceService } from '../resources/index.js';
import type { OpsRoute } from '../server/ops.js';
import type { SigningKeys } from '../tokens/index.js';
import { AssertionVerifier } from './assertion-verifier.js';
import { ExternalIssuerKeys, IssuerKeyResolver, type ExternalIssuerKeysOptions, type IssuerKeySource } from './issuer-keys.js';
import { JtiReplayGuard, type JtiReplayMode } from './jti-guard.js';
import { workloadOpsRoute } from './ops-routes.js';
import { TokenEndpointAudience } from './token-endpoint-audience.js';
import { WorkloadIssuer, workloadIssuerUrl, type WorkloadToken } from './workload-issuer.js';

export { FIC_TYPE, DEFAULT_FIC_AUDIENCE, MAX_FICS_PER_IDENTITY } from './fic-rules.js';
export { WorkloadIssuer, workloadIssuerUrl, MAX_WORKLOAD_TOKEN_SEC, type WorkloadToken } from './workload-issuer.js';
export { AssertionVerifier } from './assertion-verifier.js';
export { ExternalIssuerKeys, parseJwks, MAX_ISSUER_KEYS, type IssuerKey, type IssuerKeySource } from './issuer-keys.js';
export { JtiReplayGuard, type JtiReplayMode } from './jti-guard.js';

export interface FederationOptions {
  tenantId: string;
  /** https://<publicHost>:<port> */
  baseUrl: string;
  /** Tenant path segments besides the GUID (the dns suffix…) that token endpoints answer to. */
  tenantAliases: string[];
  /** Extra origins a certificate assertion's `aud` may name (127.0.0.1, login.<suffix> …). */
  extraOrigins?: string[];
  clock: Clock;
  directory: Directory;
  resources: ResourceService;
  access: AccessControl;
  keys: SigningKeys;
  /** Environment for workloads besides the token file (AZURE_AUTHORITY_HOST, NODE_EXTRA_CA_CERTS, REQUESTS_CA_BUNDLE). */
  workloadEnvironment: Record<string, string>;
  jtiReplay?: JtiReplayMode;
  externalIssuers?: Partial<ExternalIssuerKeysOptions>;
}

export interface Federation {
  /** For createLoginApp({ assertions }). */
  assertions: AssertionVerifier;
  issuer: WorkloadIssuer;
  /** For createOpsHandler({ routes }). */
  opsRoute: OpsRoute;
  externalKeys: IssuerKeySource;
  /** In-process API: registers a certificate on an application, found by client id. */
  addApplicationCertificate(clientId: string, certPem: string): Promise<{ thumbprint: string; thumbprintSha256: string }>;
  /** In-process API: a token from Keyless's workload issuer (what `keyless run --workload-identity` writes to a file). */
  issueWorkloadToken(input: { subject: string; audience?: string; lifetimeSec?: number }): WorkloadToken;
}

/** Workload identity federation and certificate credentials, wired from the server's services. */
export function createFederation(o: FederationOptions): Federation {
  const issuer = new WorkloadIssuer(workloadIssuerUrl(o.baseUrl, o.tenantId), o.keys, o.clock);
  const externalKeys = new ExternalIssuerKeys({ clock: o.clock, ...o.externalIssuers });
  const keys = new IssuerKeyResolver(new Map([[issuer.url, issuer]]), externalKeys);
  const base = new URL(o.baseUrl);
  const origins = [base.origin, ...(o.extraOrigins ?? [])];
  // `localhost` resolves to either loopback address; a client may have dialled the numeric one.
  if (base.hostname === 'localhost') origins.push(`https://127.0.0.1:${base.port}`, `https://[::1]:${base.port}`);
  const assertions = new AssertionVerifier({
    tenantId: o.tenantId,
    clock: o.clock,
    directory: o.directory,
    resources: o.resources,
    keys,
    audience: new TokenEndpointAudience({ origins, tenants: [o.tenantId, ...o.tenantAliases] }),
    jti: new JtiReplayGuard(o.clock, o.jtiReplay ?? 'same-assertion'),
  });
  return {
    assertions,
    issuer,
    externalKeys,
    opsRoute: workloadOpsRoute({ issuer, resources: o.resources, access: o.access, tenantId: o.tenantId, environment: o.workloadEnvironment }),
    async addApplicationCertificate(clientId, certPem) {
      const app = await o.directory.getByAppId(clientId);
      if (!app || app.kind !== 'Application') throw new KeylessError(404, 'NotFound', `No application with client id '${clientId}'.`);
      const c = await o.directory.addCertificate(app.objectId, certPem);
      return { thumbprint: c.thumbprintSha1, thumbprintSha256: c.thumbprintSha256 };
    },
    issueWorkloadToken: (input) => issuer.mint(input),
  };
}
