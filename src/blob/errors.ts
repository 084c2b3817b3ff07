import { KeylessError, isKeylessError } from '../core/errors.js';

/**
 * Storage's error vocabulary (authorization.md §4.5, Azure's Blob error-code table). Every failure the Blob
 * surface returns is one of these: a KeylessError whose `code` is the `x-ms-error-code`, whose message is the
 * first line of `<Message>`, and whose `extra.xml` holds the additional elements Azure puts after `<Message>`
 * (AuthenticationErrorDetail, HeaderName, QueryParameterName …), in order.
 */
export type XmlExtras = [name: string, value: string][];

export function storageError(status: number, code: string, message: string, opts: { xml?: XmlExtras; headers?: Record<string, string>; detail?: string } = {}): KeylessError {
  return new KeylessError(status, code, message, {
    extra: { storage: true, xml: opts.xml ?? [] },
    headers: opts.headers ?? {},
    ...(opts.detail === undefined ? {} : { detail: opts.detail }),
  });
}

export const isStorageError = (e: unknown): e is KeylessError => isKeylessError(e) && e.extra['storage'] === true;

export const xmlExtras = (e: KeylessError): XmlExtras => (Array.isArray(e.extra['xml']) ? (e.extra['xml'] as XmlExtras) : []);

// --- authentication (401 / 400 / 403) ---

const CHALLENGE_MESSAGE = 'Server failed to authenticate the request. Please refer to the information in the www-authenticate header.';
const SIGNATURE_MESSAGE = 'Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.';

export const noAuthenticationInformation = (challenge: string): KeylessError =>
  storageError(401, 'NoAuthenticationInformation', CHALLENGE_MESSAGE, { headers: { 'WWW-Authenticate': challenge } });

/** A bearer token that failed validation (expired, wrong audience …): 401 with the challenge, so clients can retry. */
export const invalidAuthenticationInfo = (detail: string, challenge: string): KeylessError =>
  storageError(401, 'InvalidAuthenticationInfo', CHALLENGE_MESSAGE, { xml: [['AuthenticationErrorDetail', detail]], headers: { 'WWW-Authenticate': challenge } });

/** An Authorization header in no scheme Storage knows. */
export const malformedAuthorizationHeader = (): KeylessError =>
  storageError(400, 'InvalidAuthenticationInfo', 'Authentication information is not given in the correct format. Check the value of Authorization header.');

export const authenticationFailed = (detail: string): KeylessError =>
  storageError(403, 'AuthenticationFailed', SIGNATURE_MESSAGE, { xml: [['AuthenticationErrorDetail', detail]] });

export const keyBasedAuthenticationNotPermitted = (): KeylessError =>
  storageError(403, 'KeyBasedAuthenticationNotPermitted', 'Key based authentication is not permitted on this storage account.');

// --- authorization (403) ---

export const authorizationPermissionMismatch = (detail?: string): KeylessError =>
  storageError(403, 'AuthorizationPermissionMismatch', 'This request is not authorized to perform this operation using this permission.', detail === undefined ? {} : { detail });

export const authorizationFailure = (detail?: string): KeylessError =>
  storageError(403, 'AuthorizationFailure', 'This request is not authorized to perform this operation.', detail === undefined ? {} : { detail });

export const authorizationResourceTypeMismatch = (): KeylessError =>
  storageError(403, 'AuthorizationResourceTypeMismatch', 'This request is not authorized to perform this operation using this resource type.');

export const authorizationServiceMismatch = (): KeylessError =>
  storageError(403, 'AuthorizationServiceMismatch', 'This request is not authorized to perform this operation using this service.');

export const authorizationProtocolMismatch = (): KeylessError =>
  storageError(403, 'AuthorizationProtocolMismatch', 'This request is not authorized to perform this operation using this protocol.');

export const authorizationSourceIpMismatch = (ip: string): KeylessError =>
  storageError(403, 'AuthorizationSourceIPMismatch', `This request is not authorized to perform this operation using this source IP ${ip}.`);

// --- resources ---

export const resourceNotFound = (): KeylessError => storageError(404, 'ResourceNotFound', 'The specified resource does not exist.');
export const containerNotFound = (): KeylessError => storageError(404, 'ContainerNotFound', 'The specified container does not exist.');
export const containerAlreadyExists = (): KeylessError => storageError(409, 'ContainerAlreadyExists', 'The specified container already exists.');
export const blobNotFound = (): KeylessError => storageError(404, 'BlobNotFound', 'The specified blob does not exist.');
export const blobAlreadyExists = (): KeylessError => storageError(409, 'BlobAlreadyExists', 'The specified blob already exists.');
export const publicAccessNotPermitted = (): KeylessError => storageError(409, 'PublicAccessNotPermitted', 'Public access is not permitted on this storage account.');

// --- request shape ---

export const invalidRange = (size: number): KeylessError =>
  storageError(416, 'InvalidRange', 'The range specified is invalid for the current size of the resource.', { headers: { 'Content-Range': `bytes */${size}` } });

export const conditionNotMet = (): KeylessError => storageError(412, 'ConditionNotMet', 'The condition specified using HTTP conditional header(s) is not met.');

/** GET/HEAD whose If-None-Match / If-Modified-Since says the client's copy is current. */
export const notModified = (): KeylessError => storageError(304, 'ConditionNotMet', 'The condition specified using HTTP conditional header(s) is not met.');

export const md5Mismatch = (userSpecified: string, serverCalculated: string): KeylessError =>
  storageError(400, 'Md5Mismatch', 'The MD5 value specified in the request did not match with the MD5 value calculated by the server.', {
    xml: [
      ['UserSpecifiedMd5', userSpecified],
      ['ServerCalculatedMd5', serverCalculated],
    ],
  });

export const invalidHeaderValue = (name: string, value: string): KeylessError =>
  storageError(400, 'InvalidHeaderValue', 'The value for one of the HTTP headers is not in the correct format.', {
    xml: [
      ['HeaderName', name],
      ['HeaderValue', value],
    ],
  });

export const missingRequiredHeader = (name: string): KeylessError =>
  storageError(400, 'MissingRequiredHeader', "An HTTP header that's mandatory for this request is not specified.", { xml: [['HeaderName', name]] });

export const invalidQueryParameterValue = (name: string, value: string, reason?: string): KeylessError =>
  storageError(400, 'InvalidQueryParameterValue', 'Value for one of the query parameters specified in the request URI is invalid.', {
    xml: [['QueryParameterName', name], ['QueryParameterValue', value], ...(reason ? ([['Reason', reason]] as XmlExtras) : [])],
  });

export const outOfRangeQueryParameterValue = (name: string, value: string, min: number, max: number): KeylessError =>
  storageError(400, 'OutOfRangeQueryParameterValue', 'One of the query parameters specified in the request URI is outside the permissible range.', {
    xml: [
      ['QueryParameterName', name],
      ['QueryParameterValue', value],
      ['MinimumAllowed', String(min)],
      ['MaximumAllowed', String(max)],
    ],
  });

// Azure's own spelling ("specifed"): clients and scripts match on it.
export const invalidResourceName = (): KeylessError => storageError(400, 'InvalidResourceName', 'The specifed resource name contains invalid characters.');
export const outOfRangeInput = (): KeylessError => storageError(400, 'OutOfRangeInput', 'The specified resource name length is not within the permissible limits.');
export const invalidBlockList = (): KeylessError => storageError(400, 'InvalidBlockList', 'The specified block list is invalid.');
export const invalidBlobOrBlock = (): KeylessError => storageError(400, 'InvalidBlobOrBlock', 'The specified blob or block content is invalid.');
export const invalidXmlDocument = (): KeylessError => storageError(400, 'InvalidXmlDocument', 'XML specified is not syntactically valid.');
export const invalidMetadata = (): KeylessError => storageError(400, 'InvalidMetadata', 'The metadata specified is invalid. It has characters that are not permitted.');
export const invalidUri = (): KeylessError => storageError(400, 'InvalidUri', 'The requested URI does not represent any resource on the server.');

export const requestBodyTooLarge = (max: number): KeylessError =>
  storageError(413, 'RequestBodyTooLarge', 'The request body is too large and exceeds the maximum permissible limit.', { xml: [['MaxLimit', String(max)]] });

export const unsupportedHttpVerb = (verb: string): KeylessError =>
  storageError(405, 'UnsupportedHttpVerb', "The resource doesn't support specified Http Verb.", { headers: { Allow: 'GET, HEAD, PUT, DELETE' }, detail: verb });

export const notImplemented = (what: string): KeylessError =>
  storageError(501, 'NotImplemented', 'The requested operation is not implemented on the specified resource.', { detail: what });

export const internalError = (detail: string): KeylessError =>
  storageError(500, 'InternalError', 'Server encountered an internal error. Please try again after some time.', { detail });
