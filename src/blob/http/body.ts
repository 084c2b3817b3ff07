import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { requestBodyTooLarge, storageError } from '../errors.js';

const PREALLOCATE_MAX = 8 * 1024 * 1024;

/** A request body and its MD5 (base64), hashed as the bytes arrived. */
export interface ReceivedBody {
  data: Buffer;
  md5: string;
}

/**
 * Reads a request body into memory, refusing anything over `max` before reading it when Content-Length says
 * so. Bodies are buffered (not streamed into the store) because a write is one short transaction: holding a
 * database transaction open while a slow client trickles bytes would stall every other writer.
 *
 * Every write needs the body's MD5 (Put Blob stores it, all of them answer with it), so each chunk is hashed
 * and copied into place when it arrives, while it is still in cache, rather than in two more passes over the
 * whole body afterwards.
 */
export function readBody(req: IncomingMessage, max: number): Promise<ReceivedBody> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > max) return Promise.reject(requestBodyTooLarge(max));
  // Node's parser delivers exactly Content-Length bytes (or fails), so the buffer can be sized up front. Only up
  // to a few MiB: a declared length is a promise, and memory should grow with bytes actually received. Larger
  // and chunked bodies are collected and joined at the end.
  const expected = declared !== undefined && /^\d+$/.test(declared) && Number(declared) <= PREALLOCATE_MAX ? Number(declared) : undefined;
  return new Promise((resolve, reject) => {
    const hash = createHash('md5');
    const into = expected !== undefined ? Buffer.allocUnsafe(expected) : undefined;
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
      if (size + c.length > max || (into !== undefined && size + c.length > into.length)) {
        fail(requestBodyTooLarge(max));
        return;
      }
      hash.update(c);
      if (into !== undefined) c.copy(into, size);
      else chunks.push(c);
      size += c.length;
    });
    req.on('end', () => {
      if (done) return;
      if (into !== undefined && size !== into.length) {
        fail(incompleteBody());
        return;
      }
      done = true;
      resolve({ data: into ?? Buffer.concat(chunks, size), md5: hash.digest('base64') });
    });
    req.on('aborted', () => fail(incompleteBody()));
    req.on('error', fail);
  });
}

const incompleteBody = () => storageError(400, 'IncompleteBody', 'The request body is incomplete.');
