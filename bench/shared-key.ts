import { createHmac } from 'node:crypto';

/**
 * Shared Key (the documented canonical form) for fixed bench requests. A signature binds the verb, the
 * x-ms-* headers, Content-Length and the resource, not a nonce, so one signed header set serves a whole
 * measurement while x-ms-date stays within the service's 15-minute window.
 */
export function sharedKeyHeaders(input: {
  account: string;
  key: string;
  method: 'GET' | 'PUT';
  /** Canonicalized resource path: `/{account}/{container}/{blob}` (path-style services repeat the account). */
  canonicalPath: string;
  contentLength?: number;
  contentType?: string;
  extra?: Record<string, string>;
}): Record<string, string> {
  const xms: Record<string, string> = { 'x-ms-date': new Date().toUTCString(), 'x-ms-version': '2021-12-02', ...input.extra };
  const names = Object.keys(xms).sort();
  const lines = [
    input.method,
    '', // Content-Encoding
    '', // Content-Language
    input.contentLength ? String(input.contentLength) : '',
    '', // Content-MD5
    input.contentType ?? '',
    '', // Date (x-ms-date is sent)
    '',
    '',
    '',
    '',
    '', // If-Modified-Since … Range
    ...names.map((n) => `${n}:${xms[n]}`),
    input.canonicalPath,
  ];
  const sig = createHmac('sha256', Buffer.from(input.key, 'base64')).update(lines.join('\n'), 'utf8').digest('base64');
  return {
    ...xms,
    authorization: `SharedKey ${input.account}:${sig}`,
    ...(input.contentType ? { 'content-type': input.contentType } : {}),
    ...(input.contentLength ? { 'content-length': String(input.contentLength) } : {}),
  };
}
