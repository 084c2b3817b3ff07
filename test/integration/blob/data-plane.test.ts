import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestKeyless } from '../../support/keyless.js';
import { createTestDatabase } from '../../support/postgres.js';
import type { StartedKeyless } from '../../../src/index.js';
import { accountSas, createAccount, raw, withSas, type TestAccount } from './helpers.js';

// Both stores: blob bytes, byte-order listings and ranged reads go through one set of queries.
const pgdb = await createTestDatabase();
const backends: [string, () => { databaseUrl?: string }][] = [['sqlite', () => ({})]];
if (pgdb) backends.push(['postgres', () => ({ databaseUrl: pgdb.url })]);

/**
 * The Blob data plane on the wire, driven with raw HTTPS and an account SAS minted by the official SDK (so the
 * credential is not computed by the code under test). Every error is checked as Storage XML.
 */
describe.each(backends)('Blob data plane, wire level (%s)', (_backend, storeOptions) => {
  let k: StartedKeyless;
  let a: TestAccount;
  let sas: string;
  const u = (path: string, query = '') => withSas(a.pathUrl, path, sas, query);
  const put = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    raw('PUT', u(path), { headers: { 'x-ms-blob-type': 'BlockBlob', 'x-ms-version': '2026-04-06', ...headers }, body });
  const md5 = (b: string | Buffer) => createHash('md5').update(b).digest('base64');

  beforeAll(async () => {
    k = await startTestKeyless(storeOptions());
    a = await createAccount(k, 'wireacct');
    sas = accountSas(a);
    const r = await raw('PUT', u('data', 'restype=container'));
    expect(r.status).toBe(201);
  });
  afterAll(async () => {
    await k?.stop();
    if (storeOptions().databaseUrl) await pgdb?.drop();
  });

  describe('errors are Storage XML', () => {
    it('no credentials: 401 NoAuthenticationInformation with the unquoted storage challenge', async () => {
      const r = await raw('GET', `${a.pathUrl}/data/x.txt`, { headers: { 'x-ms-version': '2026-04-06' } });
      expect(r.status).toBe(401);
      expect(r.reason).toBe('Server failed to authenticate the request. Please refer to the information in the www-authenticate header.');
      expect(r.headers['x-ms-error-code']).toBe('NoAuthenticationInformation');
      expect(r.headers['www-authenticate']).toBe(`Bearer authorization_uri=${k.endpoints.authorityHost}/${k.tenantId}/oauth2/authorize resource_id=https://storage.azure.com`);
      expect(r.headers['content-type']).toBe('application/xml');
      expect(r.text).toMatch(
        /^<\?xml version="1.0" encoding="utf-8"\?><Error><Code>NoAuthenticationInformation<\/Code><Message>Server failed to authenticate the request\. Please refer to the information in the www-authenticate header\.\nRequestId:[0-9a-f-]{36}\nTime:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z<\/Message><\/Error>$/,
      );
      expect(r.text).toContain(`RequestId:${String(r.headers['x-ms-request-id'])}`);
    });

    it('no credentials and no (or an old) x-ms-version: 404 ResourceNotFound, as before 2019-12-12', async () => {
      for (const headers of [{}, { 'x-ms-version': '2019-07-07' }] as Record<string, string>[]) {
        const r = await raw('GET', `${a.pathUrl}/data/x.txt`, { headers });
        expect(r.status).toBe(404);
        expect(r.headers['x-ms-error-code']).toBe('ResourceNotFound');
        expect(r.headers['www-authenticate']).toBeUndefined();
      }
    });

    it('HEAD errors carry the code in a header and no body', async () => {
      const r = await raw('HEAD', u('data/missing.txt'));
      expect(r.status).toBe(404);
      expect(r.headers['x-ms-error-code']).toBe('BlobNotFound');
      expect(r.body.length).toBe(0);
    });

    it('missing blob, missing container, unknown account', async () => {
      expect((await raw('GET', u('data/missing.txt'))).headers['x-ms-error-code']).toBe('BlobNotFound');
      expect((await raw('GET', u('nocontainer/x.txt'))).headers['x-ms-error-code']).toBe('ContainerNotFound');
      const r = await raw('GET', `https://127.0.0.1:${new URL(a.pathUrl).port}/nosuchacct/c/x?${sas}`);
      expect(r.status).toBe(404);
      expect(r.headers['x-ms-error-code']).toBe('ResourceNotFound');
    });

    it('a malformed Authorization header is 400 InvalidAuthenticationInfo', async () => {
      const r = await raw('GET', `${a.pathUrl}/data/x.txt`, { headers: { authorization: 'Basic abc' } });
      expect(r.status).toBe(400);
      expect(r.headers['x-ms-error-code']).toBe('InvalidAuthenticationInfo');
    });

    it('a wrong Shared Key signature is 403 AuthenticationFailed with the string to sign', async () => {
      const r = await raw('GET', `${a.pathUrl}/data/x.txt`, {
        headers: { authorization: `SharedKey ${a.name}:${Buffer.alloc(32).toString('base64')}`, 'x-ms-date': new Date().toUTCString(), 'x-ms-version': '2026-04-06' },
      });
      expect(r.status).toBe(403);
      expect(r.headers['x-ms-error-code']).toBe('AuthenticationFailed');
      expect(r.text).toContain(`<AuthenticationErrorDetail>The MAC signature found in the HTTP request`);
      expect(r.text).toContain(`/${a.name}/${a.name}/data/x.txt`);
    });

    it('a stale x-ms-date is refused', async () => {
      const r = await raw('GET', `${a.pathUrl}/data/x.txt`, {
        headers: { authorization: `SharedKey ${a.name}:AAAA`, 'x-ms-date': new Date(Date.now() - 3600_000).toUTCString() },
      });
      expect(r.headers['x-ms-error-code']).toBe('AuthenticationFailed');
      expect(r.text).toContain('Request date header too old');
    });

    it('unsupported verbs and features', async () => {
      expect((await raw('POST', u('data/x.txt'))).headers['x-ms-error-code']).toBe('UnsupportedHttpVerb');
      const page = await raw('PUT', u('data/page'), { headers: { 'x-ms-blob-type': 'PageBlob', 'x-ms-blob-content-length': '512' } });
      expect(page.status).toBe(501);
      expect(page.headers['x-ms-error-code']).toBe('NotImplemented');
      expect((await raw('PUT', u('data/x.txt'), { body: 'x' })).headers['x-ms-error-code']).toBe('MissingRequiredHeader');
    });

    it('invalid names', async () => {
      expect((await raw('PUT', u('Bad_Name', 'restype=container'))).headers['x-ms-error-code']).toBe('InvalidResourceName');
      expect((await raw('PUT', u('ab', 'restype=container'))).headers['x-ms-error-code']).toBe('OutOfRangeInput');
      expect((await put(`data/${'x'.repeat(1025)}`, 'x')).headers['x-ms-error-code']).toBe('OutOfRangeInput');
    });
  });

  describe('containers', () => {
    it('create twice is 409 ContainerAlreadyExists; properties and metadata round-trip', async () => {
      const c = await raw('PUT', u('meta', 'restype=container'), { headers: { 'x-ms-meta-Project': 'keyless', 'x-ms-meta-team': 'blob' } });
      expect(c.status).toBe(201);
      expect(c.headers['etag']).toMatch(/^"0x[0-9A-F]+"$/);
      expect(c.headers['last-modified']).toMatch(/GMT$/);
      const again = await raw('PUT', u('meta', 'restype=container'));
      expect(again.status).toBe(409);
      expect(again.headers['x-ms-error-code']).toBe('ContainerAlreadyExists');
      const props = await raw('HEAD', u('meta', 'restype=container'));
      expect(props.status).toBe(200);
      expect(props.headers['x-ms-meta-project']).toBe('keyless');
      expect(props.headers['etag']).toBe(c.headers['etag']);
      const set = await raw('PUT', u('meta', 'restype=container&comp=metadata'), { headers: { 'x-ms-meta-only': '1' } });
      expect(set.status).toBe(200);
      const after = await raw('GET', u('meta', 'restype=container&comp=metadata'));
      expect(after.headers['x-ms-meta-only']).toBe('1');
      expect(after.headers['x-ms-meta-project']).toBeUndefined();
    });

    it('public access is refused (the account allows none)', async () => {
      const r = await raw('PUT', u('public', 'restype=container'), { headers: { 'x-ms-blob-public-access': 'blob' } });
      expect(r.status).toBe(409);
      expect(r.headers['x-ms-error-code']).toBe('PublicAccessNotPermitted');
    });

    it('lists with prefix, maxresults and marker', async () => {
      for (const n of ['list-a', 'list-b', 'list-c']) expect((await raw('PUT', u(n, 'restype=container'))).status).toBe(201);
      const first = await raw('GET', `${a.pathUrl}/?comp=list&prefix=list-&maxresults=2&${sas}`);
      expect(first.status).toBe(200);
      expect(first.headers['content-type']).toBe('application/xml');
      expect(first.text).toContain(`<EnumerationResults ServiceEndpoint="https://127.0.0.1:${new URL(a.pathUrl).port}/${a.name}/"><Prefix>list-</Prefix><MaxResults>2</MaxResults>`);
      expect([...first.text.matchAll(/<Name>([^<]+)<\/Name>/g)].map((m) => m[1])).toEqual(['list-a', 'list-b']);
      const marker = /<NextMarker>([^<]*)<\/NextMarker>/.exec(first.text)![1]!;
      expect(marker).toBe('list-c');
      const next = await raw('GET', `${a.pathUrl}/?comp=list&prefix=list-&maxresults=2&marker=${encodeURIComponent(marker)}&${sas}`);
      expect([...next.text.matchAll(/<Name>([^<]+)<\/Name>/g)].map((m) => m[1])).toEqual(['list-c']);
      expect(next.text).toContain('<NextMarker></NextMarker>');
      const bad = await raw('GET', `${a.pathUrl}/?comp=list&maxresults=0&${sas}`);
      expect(bad.headers['x-ms-error-code']).toBe('OutOfRangeQueryParameterValue');
    });

    it('delete is 202 and takes the blobs with it', async () => {
      expect((await raw('PUT', u('doomed', 'restype=container'))).status).toBe(201);
      expect((await put('doomed/a.txt', 'a')).status).toBe(201);
      expect((await raw('DELETE', u('doomed', 'restype=container'))).status).toBe(202);
      expect((await raw('GET', u('doomed/a.txt'))).headers['x-ms-error-code']).toBe('ContainerNotFound');
      expect((await raw('DELETE', u('doomed', 'restype=container'))).headers['x-ms-error-code']).toBe('ContainerNotFound');
      expect((await raw('PUT', u('doomed', 'restype=container'))).status).toBe(201);
      expect((await raw('GET', u('doomed/a.txt'))).headers['x-ms-error-code']).toBe('BlobNotFound');
    });
  });

  describe('Put Blob / Get Blob', () => {
    it('Put Blob answers 201 with ETag, Last-Modified, Content-MD5 and server encryption; the version is echoed', async () => {
      const r = await put('data/hello.txt', 'hello', { 'x-ms-blob-content-type': 'text/plain', 'x-ms-meta-Owner': 'me', 'x-ms-client-request-id': 'abc-123' });
      expect(r.status).toBe(201);
      expect(r.headers['etag']).toMatch(/^"0x8[0-9A-F]+"$/);
      expect(r.headers['last-modified']).toBe(new Date(Date.parse(String(r.headers['last-modified']))).toUTCString());
      expect(r.headers['content-md5']).toBe(md5('hello'));
      expect(r.headers['x-ms-request-server-encrypted']).toBe('true');
      expect(r.headers['x-ms-version']).toBe('2026-04-06');
      expect(r.headers['x-ms-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.headers['x-ms-client-request-id']).toBe('abc-123');
      expect(r.headers['date']).toMatch(/GMT$/);
      const g = await raw('GET', u('data/hello.txt'));
      expect(g.status).toBe(200);
      expect(g.text).toBe('hello');
      expect(g.headers['content-type']).toBe('text/plain');
      expect(g.headers['content-length']).toBe('5');
      expect(g.headers['content-md5']).toBe(md5('hello'));
      expect(g.headers['etag']).toBe(r.headers['etag']);
      expect(g.headers['x-ms-blob-type']).toBe('BlockBlob');
      expect(g.headers['x-ms-meta-owner']).toBe('me');
      expect(g.headers['accept-ranges']).toBe('bytes');
      expect(g.headers['x-ms-server-encrypted']).toBe('true');
    });

    it('blob names are case-sensitive and URL-decoded', async () => {
      expect((await put('data/Case.txt', 'upper')).status).toBe(201);
      expect((await put('data/case.txt', 'lower')).status).toBe(201);
      expect((await put('data/with%20space%2Fand%C3%BC.txt', 'enc')).status).toBe(201);
      expect((await raw('GET', u('data/Case.txt'))).text).toBe('upper');
      expect((await raw('GET', u('data/case.txt'))).text).toBe('lower');
      expect((await raw('GET', u('data/with%20space/and%C3%BC.txt'))).text).toBe('enc');
    });

    it('Content-MD5 is checked: a mismatch is 400 Md5Mismatch and nothing is written', async () => {
      const r = await put('data/md5.txt', 'hello', { 'content-md5': md5('other') });
      expect(r.status).toBe(400);
      expect(r.headers['x-ms-error-code']).toBe('Md5Mismatch');
      expect(r.text).toContain(`<UserSpecifiedMd5>${md5('other')}</UserSpecifiedMd5><ServerCalculatedMd5>${md5('hello')}</ServerCalculatedMd5>`);
      expect((await raw('HEAD', u('data/md5.txt'))).status).toBe(404);
      expect((await put('data/md5.txt', 'hello', { 'content-md5': md5('hello') })).status).toBe(201);
    });

    it('ranges: 206 with Content-Range; x-ms-range wins over Range; the end is clamped', async () => {
      await put('data/digits.txt', '0123456789');
      const r = await raw('GET', u('data/digits.txt'), { headers: { 'x-ms-range': 'bytes=2-4' } });
      expect(r.status).toBe(206);
      expect(r.text).toBe('234');
      expect(r.headers['content-range']).toBe('bytes 2-4/10');
      expect(r.headers['content-length']).toBe('3');
      expect(r.headers['content-md5']).toBeUndefined();
      expect(r.headers['x-ms-blob-content-md5']).toBe(md5('0123456789'));
      const both = await raw('GET', u('data/digits.txt'), { headers: { range: 'bytes=0-0', 'x-ms-range': 'bytes=9-' } });
      expect(both.text).toBe('9');
      // az downloads with x-ms-range: bytes=0-33554431 and needs a 206.
      const az = await raw('GET', u('data/digits.txt'), { headers: { 'x-ms-range': 'bytes=0-33554431' } });
      expect(az.status).toBe(206);
      expect(az.headers['content-range']).toBe('bytes 0-9/10');
      expect(az.text).toBe('0123456789');
      const hashed = await raw('GET', u('data/digits.txt'), { headers: { 'x-ms-range': 'bytes=0-3', 'x-ms-range-get-content-md5': 'true' } });
      expect(hashed.headers['content-md5']).toBe(md5('0123'));
    });

    it('ranges past the end are 416 InvalidRange; malformed x-ms-range is 400; a malformed Range is ignored', async () => {
      const r = await raw('GET', u('data/digits.txt'), { headers: { 'x-ms-range': 'bytes=10-20' } });
      expect(r.status).toBe(416);
      expect(r.headers['x-ms-error-code']).toBe('InvalidRange');
      expect(r.headers['content-range']).toBe('bytes */10');
      await put('data/empty.txt', '');
      expect((await raw('GET', u('data/empty.txt'), { headers: { 'x-ms-range': 'bytes=0-' } })).status).toBe(416);
      expect((await raw('GET', u('data/empty.txt'))).status).toBe(200);
      expect((await raw('GET', u('data/digits.txt'), { headers: { 'x-ms-range': 'bytes=-3' } })).headers['x-ms-error-code']).toBe('InvalidHeaderValue');
      const ignored = await raw('GET', u('data/digits.txt'), { headers: { range: 'bytes=-3' } });
      expect(ignored.status).toBe(200);
      expect(ignored.text).toBe('0123456789');
    });

    it('conditional headers: 304 on reads, 412 on writes, 409 for If-None-Match: * on an existing blob', async () => {
      const w = await put('data/cond.txt', 'v1');
      const etag = String(w.headers['etag']);
      expect((await raw('GET', u('data/cond.txt'), { headers: { 'if-none-match': etag } })).status).toBe(304);
      expect((await raw('GET', u('data/cond.txt'), { headers: { 'if-match': '"0x1"' } })).headers['x-ms-error-code']).toBe('ConditionNotMet');
      expect((await raw('GET', u('data/cond.txt'), { headers: { 'if-modified-since': String(w.headers['last-modified']) } })).status).toBe(304);
      expect((await raw('GET', u('data/cond.txt'), { headers: { 'if-unmodified-since': 'Mon, 01 Jan 2001 00:00:00 GMT' } })).status).toBe(412);
      const conflict = await put('data/cond.txt', 'v2', { 'if-none-match': '*' });
      expect(conflict.status).toBe(409);
      expect(conflict.headers['x-ms-error-code']).toBe('BlobAlreadyExists');
      expect((await put('data/cond-new.txt', 'v1', { 'if-none-match': '*' })).status).toBe(201);
      expect((await put('data/cond.txt', 'v2', { 'if-match': '"0x1"' })).status).toBe(412);
      expect((await put('data/cond.txt', 'v2', { 'if-match': etag })).status).toBe(201);
      expect((await raw('GET', u('data/cond.txt'))).text).toBe('v2');
      expect((await raw('DELETE', u('data/cond.txt'), { headers: { 'if-match': etag } })).status).toBe(412);
    });

    it('metadata and properties: Set Blob Properties clears what it does not set', async () => {
      await put('data/props.txt', 'p', { 'x-ms-blob-content-type': 'text/plain', 'x-ms-blob-cache-control': 'no-cache', 'x-ms-meta-a': '1' });
      const m = await raw('PUT', u('data/props.txt', 'comp=metadata'), { headers: { 'x-ms-meta-B': '2' } });
      expect(m.status).toBe(200);
      const gm = await raw('GET', u('data/props.txt', 'comp=metadata'));
      expect(gm.headers['x-ms-meta-b']).toBe('2');
      expect(gm.headers['x-ms-meta-a']).toBeUndefined();
      expect((await raw('PUT', u('data/props.txt', 'comp=properties'), { headers: { 'x-ms-blob-content-type': 'text/csv' } })).status).toBe(200);
      const h = await raw('HEAD', u('data/props.txt'));
      expect(h.headers['content-type']).toBe('text/csv');
      expect(h.headers['cache-control']).toBeUndefined();
      expect(h.headers['content-length']).toBe('1');
      expect(h.headers['x-ms-access-tier']).toBe('Hot');
      expect(h.headers['x-ms-meta-b']).toBe('2');
      expect((await raw('PUT', u('data/props.txt', 'comp=metadata'), { headers: { 'x-ms-meta-1bad': 'x' } })).headers['x-ms-error-code']).toBe('InvalidMetadata');
    });

    it('delete is 202; a second delete is 404', async () => {
      await put('data/del.txt', 'x');
      expect((await raw('DELETE', u('data/del.txt'))).status).toBe(202);
      expect((await raw('DELETE', u('data/del.txt'))).headers['x-ms-error-code']).toBe('BlobNotFound');
    });

    it('a 1 MiB Put Blob is one quick transaction, and a 10 MiB blob reads back by ranges across pieces', async () => {
      const mib = randomBytes(1024 * 1024);
      const t0 = performance.now();
      expect((await put('data/one-mib.bin', mib)).status).toBe(201);
      const took = performance.now() - t0;
      expect(took).toBeLessThan(1500);
      expect((await raw('GET', u('data/one-mib.bin'))).body.equals(mib)).toBe(true);

      const big = randomBytes(10 * 1024 * 1024 + 17);
      expect((await put('data/big.bin', big)).status).toBe(201);
      const whole = await raw('GET', u('data/big.bin'));
      expect(whole.body.equals(big)).toBe(true);
      const from = 4 * 1024 * 1024 - 5;
      const to = 8 * 1024 * 1024 + 5;
      const part = await raw('GET', u('data/big.bin'), { headers: { 'x-ms-range': `bytes=${from}-${to}` } });
      expect(part.status).toBe(206);
      expect(part.body.equals(big.subarray(from, to + 1))).toBe(true);
    });
  });

  describe('blocks', () => {
    const id = (n: number) => Buffer.from(`block-${String(n).padStart(6, '0')}`).toString('base64');
    const blockList = (entries: [string, string][]) =>
      `<?xml version="1.0" encoding="utf-8"?><BlockList>${entries.map(([k, v]) => `<${k}>${v}</${k}>`).join('')}</BlockList>`;

    it('Put Block, Get Block List, Put Block List, and a recommit that reuses committed blocks', async () => {
      for (const [n, text] of [[1, 'aaa'], [2, 'bb'], [3, 'c']] as const) {
        const r = await raw('PUT', u('data/blocks.txt', `comp=block&blockid=${encodeURIComponent(id(n))}`), { body: text });
        expect(r.status).toBe(201);
        expect(r.headers['content-md5']).toBe(md5(text));
      }
      expect((await raw('GET', u('data/blocks.txt'))).status).toBe(404);
      const staged = await raw('GET', u('data/blocks.txt', 'comp=blocklist&blocklisttype=all'));
      expect(staged.status).toBe(200);
      expect(staged.text).toContain(`<UncommittedBlocks><Block><Name>${id(1)}</Name><Size>3</Size></Block>`);

      const commit = await raw('PUT', u('data/blocks.txt', 'comp=blocklist'), {
        headers: { 'x-ms-blob-content-type': 'text/plain' },
        body: blockList([['Latest', id(2)], ['Uncommitted', id(1)]]),
      });
      expect(commit.status).toBe(201);
      expect(commit.headers['etag']).toMatch(/^"0x/);
      const g = await raw('GET', u('data/blocks.txt'));
      expect(g.text).toBe('bbaaa');
      expect(g.headers['content-type']).toBe('text/plain');
      const committed = await raw('GET', u('data/blocks.txt', 'comp=blocklist&blocklisttype=all'));
      expect(committed.text).toContain(`<CommittedBlocks><Block><Name>${id(2)}</Name><Size>2</Size></Block><Block><Name>${id(1)}</Name><Size>3</Size></Block></CommittedBlocks><UncommittedBlocks></UncommittedBlocks>`);

      // Block 3 was never committed and is gone; committed blocks can be reused in a new order.
      const missing = await raw('PUT', u('data/blocks.txt', 'comp=blocklist'), { body: blockList([['Committed', id(3)]]) });
      expect(missing.status).toBe(400);
      expect(missing.headers['x-ms-error-code']).toBe('InvalidBlockList');
      await raw('PUT', u('data/blocks.txt', `comp=block&blockid=${encodeURIComponent(id(4))}`), { body: 'dddd' });
      const again = await raw('PUT', u('data/blocks.txt', 'comp=blocklist'), { body: blockList([['Committed', id(1)], ['Latest', id(4)], ['Committed', id(1)]]) });
      expect(again.status).toBe(201);
      expect((await raw('GET', u('data/blocks.txt'))).text).toBe('aaaddddaaa');
      expect((await raw('GET', u('data/blocks.txt'), { headers: { 'x-ms-range': 'bytes=2-8' } })).text).toBe('addddaa');
    });

    it('refuses bad block ids, mixed id lengths and bad XML', async () => {
      expect((await raw('PUT', u('data/b2.txt', 'comp=block&blockid=not*base64'), { body: 'x' })).headers['x-ms-error-code']).toBe('InvalidQueryParameterValue');
      expect((await raw('PUT', u('data/b2.txt', `comp=block&blockid=${encodeURIComponent(id(1))}`), { body: 'x' })).status).toBe(201);
      const other = Buffer.from('short').toString('base64');
      expect((await raw('PUT', u('data/b2.txt', `comp=block&blockid=${encodeURIComponent(other)}`), { body: 'x' })).headers['x-ms-error-code']).toBe('InvalidBlobOrBlock');
      expect((await raw('PUT', u('data/b2.txt', 'comp=blocklist'), { body: '<BlockList><Latest>' })).headers['x-ms-error-code']).toBe('InvalidXmlDocument');
    });
  });

  describe('List Blobs', () => {
    beforeAll(async () => {
      expect((await raw('PUT', u('tree', 'restype=container'))).status).toBe(201);
      for (const n of ['a.txt', 'dir1/x.txt', 'dir1/y.txt', 'dir1/sub/z.txt', 'dir2/w.txt', 'e.txt']) expect((await put(`tree/${n}`, n, { 'x-ms-meta-Name': 'v' })).status).toBe(201);
    });
    const names = (xml: string): string[] => [...xml.matchAll(/<(Blob|BlobPrefix)><Name>([^<]+)<\/Name>/g)].map((m) => (m[1] === 'BlobPrefix' ? `${m[2]}*` : m[2]!));

    it('flat, in byte order', async () => {
      const r = await raw('GET', u('tree', 'restype=container&comp=list'));
      expect(r.status).toBe(200);
      expect(names(r.text)).toEqual(['a.txt', 'dir1/sub/z.txt', 'dir1/x.txt', 'dir1/y.txt', 'dir2/w.txt', 'e.txt']);
      expect(r.text).toContain(`ContainerName="tree"`);
      expect(r.text).toContain('<Content-Length>5</Content-Length>');
      expect(r.text).not.toContain('<Metadata>');
      expect((await raw('GET', u('tree', 'restype=container&comp=list&include=metadata'))).text).toContain('<Metadata><Name>v</Name></Metadata>');
    });

    it('with a delimiter: BlobPrefix entries; with a prefix: one level down', async () => {
      expect(names((await raw('GET', u('tree', 'restype=container&comp=list&delimiter=/'))).text)).toEqual(['a.txt', 'dir1/*', 'dir2/*', 'e.txt']);
      expect(names((await raw('GET', u('tree', 'restype=container&comp=list&delimiter=/&prefix=dir1/'))).text)).toEqual(['dir1/sub/*', 'dir1/x.txt', 'dir1/y.txt']);
    });

    it('pages with maxresults and NextMarker, prefixes counted as entries', async () => {
      const seen: string[] = [];
      let marker = '';
      let pages = 0;
      do {
        const r = await raw('GET', u('tree', `restype=container&comp=list&delimiter=/&maxresults=1${marker ? `&marker=${encodeURIComponent(marker)}` : ''}`));
        seen.push(...names(r.text));
        marker = /<NextMarker>([^<]*)<\/NextMarker>/.exec(r.text)![1]!;
        pages++;
      } while (marker && pages < 10);
      expect(seen).toEqual(['a.txt', 'dir1/*', 'dir2/*', 'e.txt']);
      expect(pages).toBe(4);
    });
  });
});
