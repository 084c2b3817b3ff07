import type { IncomingMessage } from 'node:http';
import { requestBodyTooLarge, storageError } from '../errors.js';

/**
 * Reads a request body into memory, refusing anything over `max` before reading it when Content-Length says
 * so. Bodies are buffered (not streamed into the store) because a write is one short transaction: holding a
 * database transaction open while a slow client trickles bytes would stall every other writer.
 */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > max) return Promise.reject(requestBodyTooLarge(max));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (e: unknown) => {
      if (done) return;
      done = true;
      reject(e);
    };
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > max) {
        fail(requestBodyTooLarge(max));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks, size));
    });
    req.on('aborted', () => fail(storageError(400, 'IncompleteBody', 'The request body is incomplete.')));
    req.on('error', fail);
  });
}
