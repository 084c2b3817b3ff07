import type { Caller } from '../core/caller.js';
import { KeylessError, isKeylessError } from '../core/errors.js';

export interface TokenVerifierPort {
  verify(token: string, policy: { audiences: string[]; issuers: string[]; tenantId?: string }): Promise<{ claims: Record<string, unknown> }>;
}

/** ARM's 401 wording per failed check (authorization.md §4.3), with the challenge clients expect. */
export function armBearer(verifier: TokenVerifierPort, opts: { audiences: string[]; issuers: string[]; tenantId: string; loginEndpoint: string }) {
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
      return { objectId: oid.toLowerCase(), appId, tenantId: String(claims['tid'] ?? ''), via: 'bearer', clientName: appId, claims };
    },
  };
}
