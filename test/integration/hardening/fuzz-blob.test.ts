import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createAccount, raw, type RawResult, type TestAccount } from '../blob/helpers.js';
import { startTestKeyless } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';
import { NASTY, fuzzRuns } from '../../unit/fuzz/runs.js';
import { sharedKeyStringToSign, hmacSha256 } from '../../../src/blob/auth/shared-key.js';

/**
 * The Blob data plane under fuzzed credentials (Shared Key signatures, SAS query fields) and fuzzed request inputs
 * (blob names, Range headers, versions): every refusal is Storage XML with x-ms-error-code, never a 5xx.
 */
describe('fuzz: Blob data plane', () => {
  let k: StartedKeyless;
  let a: TestAccount;
  const VERSION = '2026-04-06';

  const signed = (method: string, path: string, headers: Record<string, string>, query = ''): Record<string, string> => {
    const all = { 'x-ms-date': new Date().toUTCString(), 'x-ms-version': VERSION, ...headers };
    const sts = sharedKeyStringToSign({ method, rawPath: `/${a.name}${path}`, rawQuery: query, headers: all }, a.name);
    return { ...all, authorization: `SharedKey ${a.name}:${hmacSha256(Buffer.from(a.key1, 'base64'), sts)}` };
  };

  beforeAll(async () => {
    k = await startTestKeyless();
    a = await createAccount(k, 'fuzzacct', 'blobfuzz-rg');
    expect((await raw('PUT', `${a.pathUrl}/box?restype=container`, { headers: signed('PUT', '/box', {}, 'restype=container') })).status).toBe(201);
    const put = await raw('PUT', `${a.pathUrl}/box/b.txt`, { headers: signed('PUT', '/box/b.txt', { 'x-ms-blob-type': 'BlockBlob', 'content-length': '10' }), body: '0123456789' });
    expect(put.status, put.text).toBe(201);
  });
  afterAll(async () => k?.stop());

  const expectStorageAnswer = (r: RawResult, what: string, method = 'GET'): void => {
    expect(r.status, `${what} → ${r.status} ${r.text.slice(0, 300)}`).toBeLessThan(500);
    if (r.status >= 400) {
      expect(typeof r.headers['x-ms-error-code'], `${what}: ${r.text.slice(0, 300)}`).toBe('string');
      if (method !== 'HEAD') expect(r.text, what).toMatch(/<Error><Code>[A-Za-z]+<\/Code><Message>/);
    }
  };

  const junk = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom(...NASTY), fc.base64String({ maxLength: 60 }));

  it('control: a signed read works', async () => {
    const r = await raw('GET', `${a.pathUrl}/box/b.txt`, { headers: signed('GET', '/box/b.txt', {}) });
    expect(r.status).toBe(200);
  });

  it('Shared Key: mutated signatures, account names, dates and versions are refused in Storage XML', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('sig', 'account', 'date', 'version', 'scheme'), junk, async (what, value) => {
        const h = signed('GET', '/box/b.txt', {});
        // Node's client refuses to send non-ASCII header bytes, so header values are fuzzed within printable ASCII.
        if (what === 'sig') h.authorization = `SharedKey ${a.name}:${value.replace(/[^\x20-\x7e]/g, '')}`;
        if (what === 'account') h.authorization = h.authorization!.replace(`SharedKey ${a.name}:`, `SharedKey ${value.replace(/[^\x21-\x7e]|:/g, '') || 'x'}:`);
        if (what === 'date') h['x-ms-date'] = value.replace(/[^\x20-\x7e]/g, '');
        if (what === 'version') h['x-ms-version'] = value.replace(/[^\x20-\x7e]/g, '') || '1';
        if (what === 'scheme') h.authorization = `${value.replace(/[^\x21-\x7e]/g, '') || 'X'} ${a.name}:${h.authorization!.split(':')[1]}`;
        const r = await raw('GET', `${a.pathUrl}/box/b.txt`, { headers: h });
        expectStorageAnswer(r, `${what}=${JSON.stringify(value)}`);
        expect(r.status, `${what}=${JSON.stringify(value)}`).not.toBe(200);
      }),
      { numRuns: fuzzRuns(200) },
    );
  });

  it('SAS query fields: random permissions, dates, versions, resources and signatures are refused in Storage XML', async () => {
    const field = fc.oneof(junk, fc.constantFrom('rwdlacup', 'r', 'b', 'c', 'sco', 'o', '2015-04-05', '2020-12-06', VERSION, '2001-01-01T00:00:00Z', '9999-12-31T23:59:59Z', 'https', 'http', '127.0.0.1', '0.0.0.0-255.255.255.255'));
    const sas = fc.dictionary(fc.constantFrom('sv', 'sig', 'sp', 'st', 'se', 'sip', 'spr', 'ss', 'srt', 'sr', 'si', 'ses', 'skoid', 'sktid', 'rscc'), field, { minKeys: 1, maxKeys: 10 });
    await fc.assert(
      fc.asyncProperty(sas, async (q) => {
        const query = Object.entries({ sig: 'AAAA', ...q }).map(([k2, v]) => `${k2}=${encodeURIComponent(v.replace(/[\ud800-\udfff]/g, 'x'))}`).join('&');
        const r = await raw('GET', `${a.pathUrl}/box/b.txt?${query}`, { headers: { 'x-ms-version': VERSION } });
        expectStorageAnswer(r, query);
        expect(r.status, query).not.toBe(200);
      }),
      { numRuns: fuzzRuns(200) },
    );
  });

  it('blob names, Range and x-ms-range headers: a blob, a range of it, or Storage XML, never a 5xx', async () => {
    const name = fc.oneof(fc.constantFrom('b.txt', 'B.TXT', 'b.txt/', '../b.txt', './b.txt', 'a/../b.txt', '%2e%2e/b.txt', '%', '%zz', 'x'.repeat(1100), '%00', 'dir//b', '\u00e9', '%F0%9F%98%80'), fc.stringMatching(/^[A-Za-z0-9._/-]{1,40}$/));
    const range = fc.oneof(fc.constant(undefined), fc.constantFrom('bytes=0-3', 'bytes=5-', 'bytes=9-100', 'bytes=10-', 'bytes=-5', 'bytes=3-1', 'bytes=0-3,5-6', 'bytes=99999999999999999999-', 'bytes=abc', 'items=0-1', ''), junk.map((s) => s.replace(/[^\x20-\x7e]/g, '')));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'HEAD', 'DELETE', 'PUT'), name, range, fc.boolean(), async (m, n, r, xms) => {
        const path = `/box/${n}`;
        const headers: Record<string, string> = {};
        if (r !== undefined) headers[xms ? 'x-ms-range' : 'range'] = r;
        if (m === 'PUT') Object.assign(headers, { 'x-ms-blob-type': 'BlockBlob', 'content-length': '1' });
        const res = await raw(m, `${a.pathUrl}${path}`, { headers: signed(m, path, headers), ...(m === 'PUT' ? { body: 'x' } : {}) });
        expectStorageAnswer(res, `${m} ${path} ${xms ? 'x-ms-range' : 'range'}=${String(r)}`, m);
      }),
      { numRuns: fuzzRuns(300) },
    );
  });
});
