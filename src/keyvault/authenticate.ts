import type { Caller } from '../core/caller.js';
import { isKeylessError, type KeylessError } from '../core/errors.js';
import { buildChallenge } from './challenge.js';
import { kvError } from './errors.js';

export interface AuthenticateDeps {
  /** `{loginBase}/{tenantId}`: what the challenge names as `authorization`. */
  authority: string;
  /** Expected issuers, for the AKV10032 message. */
  issuers: string[];
  verifyBearer(token: string, audiences: string[]): Promise<Caller>;
}

/**
 * Key Vault's authentication step. No token → the challenge the SDKs start with; a bad token → 401 with
 * the service's wording for what was wrong, and the same challenge so a client can fetch a fresh token.
 */
export async function authenticate(deps: AuthenticateDeps, header: string | undefined, resource: string, audiences: string[]): Promise<Caller> {
  const challenge = { 'WWW-Authenticate': buildChallenge({ authorization: deps.authority, resource }) };
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!m) throw unauthorized('AKV10000: Request is missing a Bearer or PoP token.', challenge, header ? 'not a bearer token' : 'no Authorization header');
  const token = m[1]!;
  try {
    const caller = await deps.verifyBearer(token, audiences);
    if (!caller.objectId) throw unauthorized('AKV10000: Request is missing a Bearer or PoP token.', challenge, 'token has no oid');
    return caller;
  } catch (e) {
    if (isKeylessError(e) && e.status === 401 && e.headers['WWW-Authenticate']) throw e;
    const reason = isKeylessError(e) ? String(e.extra['reason'] ?? '') : '';
    const detail = isKeylessError(e) ? (e.detail ?? e.message) : String(e);
    throw unauthorized(messageFor(reason, token, deps.issuers), challenge, detail);
  }
}

function unauthorized(message: string, headers: Record<string, string>, detail: string): KeylessError {
  return kvError(401, 'Unauthorized', message, undefined, { headers, detail });
}

function messageFor(reason: string, token: string, issuers: string[]): string {
  const claims = unverifiedClaims(token);
  switch (reason) {
    case 'aud':
      return `AKV10022: Invalid audience. Expected https://vault.azure.net, found: ${echo(claims['aud'])}.`;
    case 'iss':
    case 'tid':
      return `AKV10032: Invalid issuer. Expected one of ${issuers.join(', ')}, found ${echo(claims['iss'])}.`;
    case 'exp':
      return "[TokenExpired] Error validating token: 'S2S12086'.";
    case 'nbf':
      return 'Token not yet valid.';
    case 'oid':
      return 'AKV10000: Request is missing a Bearer or PoP token.';
    case 'kid':
      return 'AKV10046: Unable to resolve the key used for signature validation.';
    case 'sig':
      return 'Error validating token: IDX10511';
    default:
      return 'Error validating token: IDX12741';
  }
}

/** A claim of the caller's own token, bounded, for the message. */
const echo = (v: unknown): string => (typeof v === 'string' ? v.slice(0, 256) : '');

/** Claims read without verification, only to echo them in an error message. */
function unverifiedClaims(token: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
