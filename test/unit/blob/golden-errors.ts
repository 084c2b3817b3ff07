import type { KeylessError } from '../../../src/core/errors.js';
import * as E from '../../../src/blob/errors.js';
import { storageChallenge } from '../../../src/blob/auth/authenticate.js';
import { errorXml } from '../../../src/blob/xml.js';

/** The Storage error bodies pinned by test/golden/blob (fixed request id and time). */
export const REQUEST_ID = '3c6a2f2b-701e-0042-6b7a-1d2b3c000000';
export const TIME = Date.parse('2026-01-02T03:04:05.678Z');
const challenge = storageChallenge('https://login.keyless.localhost:8443', '72f988bf-86f1-41af-91ab-2d7cd011db47');

export const GOLDEN_ERRORS: [string, () => KeylessError][] = [
  ['no-authentication-information', () => E.noAuthenticationInformation(challenge)],
  ['invalid-authentication-info-expired', () => E.invalidAuthenticationInfo('Lifetime validation failed. The token is expired.', challenge)],
  ['invalid-authentication-info-audience', () => E.invalidAuthenticationInfo('Audience validation failed. Audience did not match.', challenge)],
  ['malformed-authorization-header', () => E.malformedAuthorizationHeader()],
  [
    'authentication-failed-shared-key',
    () =>
      E.authenticationFailed(
        "The MAC signature found in the HTTP request 'c2lnbmF0dXJl' is not the same as any computed signature. Server used following string to sign: 'GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Fri, 02 Jan 2026 03:04:05 GMT\nx-ms-version:2026-04-06\n/acct/c1/a.txt'.",
      ),
  ],
  ['authentication-failed-sas-expired', () => E.authenticationFailed('Signature not valid in the specified time frame: Start [] - Expiry [Thu, 01 Jan 2026 00:00:00 GMT] - Current [Fri, 02 Jan 2026 03:04:05 GMT]')],
  ['authorization-permission-mismatch', () => E.authorizationPermissionMismatch()],
  ['authorization-failure', () => E.authorizationFailure()],
  ['authorization-resource-type-mismatch', () => E.authorizationResourceTypeMismatch()],
  ['key-based-authentication-not-permitted', () => E.keyBasedAuthenticationNotPermitted()],
  ['resource-not-found', () => E.resourceNotFound()],
  ['container-not-found', () => E.containerNotFound()],
  ['container-already-exists', () => E.containerAlreadyExists()],
  ['blob-not-found', () => E.blobNotFound()],
  ['blob-already-exists', () => E.blobAlreadyExists()],
  ['invalid-range', () => E.invalidRange(5)],
  ['condition-not-met', () => E.conditionNotMet()],
  ['md5-mismatch', () => E.md5Mismatch('XUFAKrxLKna5cZ2REBfFkg==', '1B2M2Y8AsgTpgAmY7PhCfg==')],
  ['invalid-header-value', () => E.invalidHeaderValue('x-ms-range', 'bytes=-5')],
  ['invalid-query-parameter-value', () => E.invalidQueryParameterValue('comp', 'bogus')],
  ['out-of-range-query-parameter-value', () => E.outOfRangeQueryParameterValue('maxresults', '0', 1, 5000)],
  ['invalid-resource-name', () => E.invalidResourceName()],
  ['invalid-block-list', () => E.invalidBlockList()],
  ['invalid-xml-document', () => E.invalidXmlDocument()],
  ['request-body-too-large', () => E.requestBodyTooLarge(268435456)],
  ['unsupported-http-verb', () => E.unsupportedHttpVerb('POST')],
  ['not-implemented', () => E.notImplemented('PageBlob blobs')],
  ['internal-error', () => E.internalError('boom')],
];

export function wire(e: KeylessError): { status: number; reason: string; headers: Record<string, string>; body: string } {
  return {
    status: e.status,
    reason: e.message,
    headers: { 'x-ms-error-code': e.code, ...e.headers },
    body: errorXml(e.code, e.message, E.xmlExtras(e), REQUEST_ID, TIME),
  };
}
