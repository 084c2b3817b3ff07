import type { Caller } from '../core/caller.js';
import { KeylessError, isKeylessError } from '../core/errors.js';

export interface TokenVerifierPort {
  verify(token: string, policy: { audiences: string[]; issuers: string[]; tenantId?: string }): Promise<{ claims: Record<string, unknown> }>;
}

/** ARM's 401 wording per failed check (authorization.md §4.3), with the challenge clients expect. */
export function armBearer(
  verifier: TokenVerifierPort,
  opts: {
    audiences: string[];
    issuers: string[];
    tenantId: string;
    loginEndpoint: string;
    /** Is the token's principal still in the directory? A deleted identity's tokens are refused at once (docs/security.md). */
    principalExists?: (objectId: string) => Promise<boolean>;
  },
) {
  const challenge = (desc: string) =>
    `Bearer authorization_uri="${opts.loginEndpoint}/${opts.tenantId}", error="invalid_token", error_description="${desc.replace(/"/g, "'")}"`;
  return {
    async verify(token: string): Promise<Caller> {
      let claims: Record<string, unknown>;
      try {
        ({ claims } = await verifier.verify(token, { audiences: opts.audiences, issuers: opts.issuers, tenantId: opts.tenantId }));
      } catch (e) {
        const ke = isKeylessError(e) ? e : new KeylessError(401, 'InvalidAuthenticationToken', 'The access token is invalid.', { detail: String(e) });
        const reason = String(ke.extra['reason'] ?? '');
        // The verifier names ARM's more specific code (expired, wrong audience, wrong tenant) when there is one.
        const code = typeof ke.extra['armCode'] === 'string' ? ke.extra['armCode'] : 'InvalidAuthenticationToken';
        throw new KeylessError(401, code, ke.message, { detail: ke.detail ?? reason, extra: { reason }, headers: { 'WWW-Authenticate': challenge(ke.message) } });
      }
      const oid = typeof claims['oid'] === 'string' ? claims['oid'] : undefined;
      const appId = typeof claims['appid'] === 'string' ? claims['appid'] : typeof claims['azp'] === 'string' ? claims['azp'] : undefined;
      if (!oid || !appId) {
        const msg = "The received access token is not valid: at least one of the claims 'puid' or 'altsecid' or 'oid' should be present. If you are accessing as application please make sure service principal is properly created in the tenant.";
        throw new KeylessError(401, 'InvalidAuthenticationToken', msg, { headers: { 'WWW-Authenticate': challenge(msg) } });
      }
      if (opts.principalExists && !(await opts.principalExists(oid.toLowerCase()))) {
        throw new KeylessError(401, 'InvalidAuthenticationToken', 'The access token is invalid.', {
          detail: 'token rejected (principal): its identity has been deleted',
          extra: { reason: 'principal' },
          headers: { 'WWW-Authenticate': challenge('The access token is invalid.') },
        });
      }
      return { objectId: oid.toLowerCase(), appId, tenantId: String(claims['tid'] ?? ''), via: 'bearer', clientName: appId, claims };
    },
  };
}

/**
 * Wraps a data plane's token check: a token without `oid`, or whose identity has since been deleted, is refused as
 * an invalid token (401 in the surface's own words) rather than reaching authorization as an anonymous principal.
 */
export function requireLivePrincipal(
  verify: (token: string, audiences: string[]) => Promise<Caller>,
  principalExists: (objectId: string) => Promise<boolean>,
): (token: string, audiences: string[]) => Promise<Caller> {
  return async (token, audiences) => {
    const caller = await verify(token, audiences);
    if (!caller.objectId) throw new KeylessError(401, 'InvalidAuthenticationToken', 'The access token is invalid.', { detail: 'token rejected (oid): no oid claim', extra: { reason: 'oid' } });
    if (!(await principalExists(caller.objectId))) {
      throw new KeylessError(401, 'InvalidAuthenticationToken', 'The access token is invalid.', { detail: 'token rejected (principal): its identity has been deleted', extra: { reason: 'principal' } });
    }
    return caller;
  };
}
