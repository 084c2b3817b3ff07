import type { ServerResponse } from 'node:http';

const SENT = Symbol('keyless.sentRequestId');

/**
 * The request id a response carries, for the request log. A surface that writes its headers as one prepared array
 * (`writeHead(status, [...])`, the cheapest way Node sends them) cannot be read back with `getHeader`, so it names
 * the id it sent here; anything else is read from the response's headers.
 */
export function noteRequestId(res: ServerResponse, id: string): void {
  (res as ServerResponse & { [SENT]?: string })[SENT] = id;
}

export function sentRequestId(res: ServerResponse): string | undefined {
  const noted = (res as ServerResponse & { [SENT]?: string })[SENT];
  if (noted !== undefined) return noted;
  const v = res.getHeader('x-ms-request-id');
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v[0] : String(v);
}
