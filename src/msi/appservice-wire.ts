import type { KeylessError } from '../core/errors.js';
import type { IssuedAccessToken } from '../signin/index.js';

/**
 * App Service's token body (2019-08-01, and 2017-09-01 which Keyless answers the same way).
 * `expires_on` is epoch seconds as a string on both versions: the 2017 API returned a date, which JS reads as
 * "already expired" and Python's App Service/IMDS parsers reject (protocols.md §5 gotcha 2). `expires_in` is
 * extra to Azure's documented fields; Python's msal cache prefers it.
 */
export function appServiceTokenBody(t: IssuedAccessToken): Record<string, string> {
  return {
    access_token: t.accessToken,
    expires_on: String(t.expiresOn),
    expires_in: String(t.expiresIn),
    not_before: String(t.notBefore),
    resource: t.resource,
    token_type: 'Bearer',
    client_id: t.principal.appId,
  };
}

/** `{"statusCode","message","correlationId"}`: what App Service sends and msal-node reads (`message`, `correlationId`). */
export function appServiceErrorBody(e: KeylessError, correlationId: string): { statusCode: number; message: string; correlationId: string } {
  return { statusCode: e.status, message: e.message, correlationId };
}
