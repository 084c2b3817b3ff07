import { KeylessError } from '../core/errors.js';
import type { IssuedAccessToken } from '../signin/index.js';

/**
 * IMDS speaks strings only ("all primitives will be of type string"): expires_on as epoch seconds is the one
 * form the JS, Python and az clients all parse, and `resource` is echoed exactly (JS caches by it).
 */
export function imdsTokenBody(t: IssuedAccessToken): Record<string, string> {
  return {
    access_token: t.accessToken,
    client_id: t.principal.appId,
    expires_in: String(t.expiresIn),
    expires_on: String(t.expiresOn),
    ext_expires_in: String(t.expiresIn),
    not_before: String(t.notBefore),
    resource: t.resource,
    token_type: 'Bearer',
  };
}

/** `{"error","error_description"}` — the only error shape IMDS clients parse. */
export function imdsErrorBody(e: KeylessError): { error: string; error_description: string } {
  return { error: imdsErrorCode(e), error_description: e.message };
}

function imdsErrorCode(e: KeylessError): string {
  // Internal codes that are not OAuth-style become the nearest IMDS one.
  if (/^[a-z_]+$/.test(e.code)) return e.code;
  return e.status >= 500 ? 'unknown' : 'invalid_request';
}
