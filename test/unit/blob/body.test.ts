import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readBody } from '../../../src/blob/http/body.js';
import { isStorageError } from '../../../src/blob/errors.js';

/** A request stream with the given headers that sends `chunks` and ends (or is aborted). */
function request(headers: Record<string, string>, chunks: Buffer[], end: 'end' | 'aborted' = 'end'): IncomingMessage {
  const req = Object.assign(new PassThrough(), { headers }) as unknown as IncomingMessage & PassThrough;
  setImmediate(() => {
    for (const c of chunks) req.write(c);
    if (end === 'end') req.end();
    else req.emit('aborted');
  });
  return req;
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('base64');
const chunks = [Buffer.from('hello, '), Buffer.alloc(70_000, 'x'), Buffer.from('!')];
const whole = Buffer.concat(chunks);

describe('readBody', () => {
  it('with Content-Length: the bytes in order and their MD5', async () => {
    const r = await readBody(request({ 'content-length': String(whole.length) }, chunks), 1 << 20);
    expect(r.data.equals(whole)).toBe(true);
    expect(r.md5).toBe(md5(whole));
  });

  it('chunked (no Content-Length): the same bytes and MD5', async () => {
    const r = await readBody(request({}, chunks), 1 << 20);
    expect(r.data.equals(whole)).toBe(true);
    expect(r.md5).toBe(md5(whole));
  });

  it('an empty body has the MD5 of nothing', async () => {
    const r = await readBody(request({ 'content-length': '0' }, []), 1024);
    expect(r.data.length).toBe(0);
    expect(r.md5).toBe('1B2M2Y8AsgTpgAmY7PhCfg==');
  });

  it('refuses a declared or a streamed body over the limit with RequestBodyTooLarge', async () => {
    for (const headers of [{ 'content-length': String(whole.length) }, {}] as Record<string, string>[]) {
      const e: unknown = await readBody(request(headers, chunks), 1000).catch((x: unknown) => x);
      expect(isStorageError(e) && e.status === 413 && e.code === 'RequestBodyTooLarge').toBe(true);
    }
  });

  it('fewer bytes than declared, or an aborted upload, is 400 IncompleteBody', async () => {
    for (const req of [request({ 'content-length': String(whole.length + 5) }, chunks), request({}, chunks, 'aborted')]) {
      const e: unknown = await readBody(req, 1 << 20).catch((x: unknown) => x);
      expect(isStorageError(e) && e.status === 400 && e.code === 'IncompleteBody').toBe(true);
    }
  });
});
