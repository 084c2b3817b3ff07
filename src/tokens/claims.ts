import { randomBytes } from 'node:crypto';

export type TokenKind = 'managedIdentity' | 'application';
/** How an application authenticated to the token endpoint; decides appidacr/azpacr. */
export type ClientAuthMethod = 'secret' | 'certificate' | 'federated';

export interface IssueRequest {
  tenantId: string;
  /** Echoed verbatim into `aud`, exactly as the client asked (trailing slash and all), as Entra does for v1. */
  audience: string;
  /** Object id of the service principal: becomes `oid` and `sub`. */
  subjectOid: string;
  /** Client id: `appid` (v1) / `azp` (v2). */
  appId: string;
  kind: TokenKind;
  version: 1 | 2;
  /** Only for kind 'application'; default 'secret'. */
  clientAuth?: ClientAuthMethod;
  /** ARM id of the identity (MI only): host resource for system-assigned, the identity for user-assigned. */
  xmsMirid?: string;
  /** ARM id of the hosting resource; Azure adds it for user-assigned identities on some hosts. */
  xmsAzRid?: string;
  /** Tenant creation time, epoch seconds → `xms_tcdt`. Omitted when not given. */
  tenantCreatedAt?: number;
  lifetimeSec: number;
  /** Additional claims (e.g. `roles`, `xms_cc`); may not override a claim this module sets. */
  extraClaims?: Record<string, unknown>;
}

export interface TokenTimes {
  iat: number;
  nbf: number;
  exp: number;
}

/** Entra: 0 public client, 1 client secret, 2 certificate or client assertion. MI tokens carry "2". */
export function authContextClassRef(req: Pick<IssueRequest, 'kind' | 'clientAuth'>): '1' | '2' {
  if (req.kind === 'managedIdentity') return '2';
  return (req.clientAuth ?? 'secret') === 'secret' ? '1' : '2';
}

export const RESERVED_CLAIMS: ReadonlySet<string> = new Set([
  'aud', 'iss', 'iat', 'nbf', 'exp', 'aio', 'appid', 'appidacr', 'azp', 'azpacr', 'idp', 'idtyp', 'oid', 'rh',
  'sub', 'tid', 'uti', 'ver', 'xms_az_rid', 'xms_mirid', 'xms_tcdt',
]);

/** The random parts of a token, drawn in one call. */
export interface Opaque {
  aio: string;
  rh: string;
  uti: string;
}

export function drawOpaque(): Opaque {
  const r = randomBytes(16 + 24 + 40);
  return {
    uti: r.subarray(0, 16).toString('base64url'),
    // Entra's aio is standard base64 and its rh looks like "0.<base64url>."; both are opaque to every client.
    aio: r.subarray(16, 40).toString('base64'),
    rh: `0.${r.subarray(40).toString('base64url')}.`,
  };
}

/**
 * Claims in Entra's order (registered time claims first, the rest alphabetical), per protocols.md §3.
 * v2 swaps appid/appidacr for azp/azpacr and, like Entra, omits `idp` because it would equal `iss`.
 */
export function buildClaims(req: IssueRequest, issuer: string, times: TokenTimes, opaque: Opaque): Record<string, unknown> {
  const acr = authContextClassRef(req);
  const mi = req.kind === 'managedIdentity';
  const c: Record<string, unknown> = {
    aud: req.audience,
    iss: issuer,
    iat: times.iat,
    nbf: times.nbf,
    exp: times.exp,
    aio: opaque.aio,
  };
  if (req.version === 1) {
    c.appid = req.appId;
    c.appidacr = acr;
    c.idp = issuer;
  } else {
    c.azp = req.appId;
    c.azpacr = acr;
  }
  c.idtyp = 'app';
  c.oid = req.subjectOid;
  c.rh = opaque.rh;
  c.sub = req.subjectOid;
  c.tid = req.tenantId;
  c.uti = opaque.uti;
  c.ver = req.version === 1 ? '1.0' : '2.0';
  if (mi && req.xmsAzRid !== undefined) c.xms_az_rid = req.xmsAzRid;
  if (mi && req.xmsMirid !== undefined) c.xms_mirid = req.xmsMirid;
  if (req.tenantCreatedAt !== undefined) c.xms_tcdt = Math.floor(req.tenantCreatedAt);
  if (req.extraClaims) {
    for (const [name, value] of Object.entries(req.extraClaims)) {
      if (RESERVED_CLAIMS.has(name)) throw new Error(`extraClaims may not set '${name}'`);
      c[name] = value;
    }
  }
  return c;
}
