import type { ServerResponse } from 'node:http';

const SENT = Symbol('keyless.sentRequestId');

/**
 * The request id a surface sent, for the request log. A surface that writes its headers in one call
 * (`writeHead(status, [...])`, the cheapest way Node sends them) cannot be read back with `getHeader`, so it names
 * the id here; the log reads any other response's id from its headers.
 */
export function noteRequestId(res: ServerResponse, id: string): void {
  (res as ServerResponse & { [SENT]?: string })[SENT] = id;
}

export function notedRequestId(res: ServerResponse): string | undefined {
  return (res as ServerResponse & { [SENT]?: string })[SENT];
}
