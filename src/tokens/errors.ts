import { KeylessError } from '../core/errors.js';

/**
 * Which check rejected a token. Surfaces map it to their own bodies (ARM, Key Vault, Storage); it is carried in
 * `extra.reason`. `header` = a header parameter Keyless never emits and will not honour (crit, jku, x5u, jwk, x5c).
 */
export type TokenFailureReason =
  | 'size'
  | 'malformed'
  | 'header'
  | 'alg'
  | 'kid'
  | 'sig'
  | 'exp'
  | 'nbf'
  | 'iss'
  | 'aud'
  | 'tid';

export const INVALID_TOKEN_CODE = 'InvalidAuthenticationToken';

/**
 * ARM answers these cases with its own, more specific codes; kept in `extra.armCode` so the ARM serializer can use
 * them while other surfaces keep the generic code.
 */
const ARM_CODES: Partial<Record<TokenFailureReason, string>> = {
  exp: 'ExpiredAuthenticationToken',
  iss: 'InvalidAuthenticationTokenTenant',
  tid: 'InvalidAuthenticationTokenTenant',
  aud: 'InvalidAuthenticationTokenAudience',
};

export function tokenError(
  reason: TokenFailureReason,
  detail: string,
  message = 'The access token is invalid.',
  cause?: unknown,
): KeylessError {
  const armCode = ARM_CODES[reason];
  return new KeylessError(401, INVALID_TOKEN_CODE, message, {
    detail: `token rejected (${reason}): ${detail}`,
    extra: armCode ? { reason, armCode } : { reason },
    cause,
  });
}

/** .NET's invariant "G" format, which ARM uses in its expiry message: 5/20/2021 2:18:20 PM. */
export function armUtcTime(epochSec: number): string {
  const d = new Date(epochSec * 1000);
  const h = d.getUTCHours();
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${h % 12 || 12}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}

export const expiredMessage = (exp: number, now: number): string =>
  `The access token expiry UTC time '${armUtcTime(exp)}' is earlier than current UTC time '${armUtcTime(now)}'.`;

export const wrongIssuerMessage = (iss: string, expected: string, authority: string): string =>
  `The access token is from the wrong issuer '${iss}'. It must match the tenant '${expected}' associated with this subscription. Please use the authority (URL) '${authority}' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.`;

export const wrongAudienceMessage = (aud: string, allowed: readonly string[]): string =>
  `The access token has been obtained for wrong audience or resource '${aud}'. It should exactly match with one of the allowed audiences ${allowed.map((a) => `'${a}'`).join(',')}.`;
