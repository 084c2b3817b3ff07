import { describe, it, expect } from 'vitest';
import { createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';
import { storageSharedKeyCredentialPolicy } from '@azure/storage-common';
import {
  candidates,
  hmacSha256,
  parseSharedKeyAuthorization,
  sharedKeyLiteStringToSign,
  sharedKeyStringToSign,
  verifySharedKey,
  type SignableRequest,
} from '../../../src/blob/auth/shared-key.js';

const KEY = Buffer.from(Array.from({ length: 64 }, (_, i) => i));
const req = (method: string, url: string, headers: Record<string, string> = {}): SignableRequest => {
  const u = new URL(url);
  return { method, rawPath: u.pathname, rawQuery: u.search.slice(1), headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])) };
};

describe('Shared Key string-to-sign (learn.microsoft.com "Authorize with Shared Key" examples)', () => {
  const date = { 'x-ms-date': 'Sun, 11 Oct 2009 21:49:13 GMT', 'x-ms-version': '2009-09-19' };

  it('canonicalizes a container metadata request on the host-style URL', () => {
    const s = sharedKeyStringToSign(req('GET', 'https://myaccount.blob.core.windows.net/mycontainer?restype=container&comp=metadata&timeout=20', date), 'myaccount');
    expect(s).toBe(
      'GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Sun, 11 Oct 2009 21:49:13 GMT\nx-ms-version:2009-09-19\n/myaccount/mycontainer\ncomp:metadata\nrestype:container\ntimeout:20',
    );
  });

  it('sorts query names and joins repeated values with commas in sorted order', () => {
    const s = sharedKeyStringToSign(
      req('GET', 'https://myaccount.blob.core.windows.net/mycontainer?restype=container&comp=list&include=snapshots&include=metadata&include=uncommittedblobs', date),
      'myaccount',
    );
    expect(s.split('\n').slice(-4)).toEqual(['/myaccount/mycontainer', 'comp:list', 'include:metadata,snapshots,uncommittedblobs', 'restype:container']);
  });

  it('keeps the account segment of a path-style URL: /account/account/…', () => {
    const s = sharedKeyStringToSign(req('GET', 'https://127.0.0.1:8443/myacct/c1/hello.txt', date), 'myacct');
    expect(s.endsWith('\n/myacct/myacct/c1/hello.txt')).toBe(true);
  });

  it('signs an empty Content-Length (version 2015-02-21 and later) and a non-empty one as is', () => {
    const zero = sharedKeyStringToSign(req('PUT', 'https://a.blob.x/c?restype=container', { ...date, 'content-length': '0' }), 'a');
    const five = sharedKeyStringToSign(req('PUT', 'https://a.blob.x/c/b', { ...date, 'content-length': '5' }), 'a');
    expect(zero.split('\n')[3]).toBe('');
    expect(five.split('\n')[3]).toBe('5');
  });

  it('signs the path as sent, percent-encoding included, and decodes query values', () => {
    const s = sharedKeyStringToSign(req('GET', 'https://a.blob.x/c/dir%2Fa%20b.txt?prefix=x%2Fy', date), 'a');
    expect(s.endsWith('/a/c/dir%2Fa%20b.txt\nprefix:x/y')).toBe(true);
  });

  it('matches an HMAC-SHA256 computed independently (openssl) for a fixed key', () => {
    const s = sharedKeyStringToSign(req('GET', 'https://myaccount.blob.core.windows.net/mycontainer?restype=container&comp=metadata&timeout=20', date), 'myaccount');
    expect(hmacSha256(KEY, s)).toBe('Ou5dx9wGhNs34iaXiWP494YFrTI+iUGV28c4eLMpS6w=');
  });

  it('Shared Key Lite signs fewer headers and only comp', () => {
    const s = sharedKeyLiteStringToSign(req('GET', 'https://a.blob.x/c?restype=container&comp=metadata', { ...date, 'content-type': 'text/plain' }), 'a');
    expect(s).toBe('GET\n\ntext/plain\n\nx-ms-date:Sun, 11 Oct 2009 21:49:13 GMT\nx-ms-version:2009-09-19\n/a/c?comp=metadata');
  });
});

describe('parseSharedKeyAuthorization', () => {
  it.each([
    ['SharedKey acct:abc+/=', { scheme: 'SharedKey', account: 'acct', signature: 'abc+/=' }],
    ['SharedKeyLite acct:sig', { scheme: 'SharedKeyLite', account: 'acct', signature: 'sig' }],
  ])('%s', (h, want) => expect(parseSharedKeyAuthorization(h)).toEqual(want));
  it.each(['SharedKey acct', 'Basic xyz', 'SharedKey :sig', ''])('refuses %j', (h) => expect(parseSharedKeyAuthorization(h)).toBeUndefined());
});

/** The official client's signing policy is the oracle: whatever it signs, Keyless must verify. */
async function signWithSdk(method: string, url: string, headers: Record<string, string>, body?: string): Promise<SignableRequest & { authorization: string }> {
  const request = createPipelineRequest({ url, method: method as 'GET', headers: createHttpHeaders(headers), ...(body === undefined ? {} : { body }) });
  let signed: typeof request | undefined;
  await storageSharedKeyCredentialPolicy({ accountName: 'myacct', accountKey: KEY }).sendRequest(request, async (r) => {
    signed = r;
    return { request: r, status: 200, headers: createHttpHeaders() };
  });
  const h: Record<string, string> = {};
  for (const [k, v] of signed!.headers) h[k.toLowerCase()] = v;
  const u = new URL(url);
  return { method, rawPath: u.pathname, rawQuery: u.search.slice(1), headers: h, authorization: h['authorization']! };
}

describe('verifySharedKey accepts what @azure/storage-common signs', () => {
  const keys = [
    { keyName: 'key1', value: Buffer.alloc(64, 7) },
    { keyName: 'key2', value: KEY },
  ];

  it.each([
    ['GET', 'https://myacct.blob.keyless.localhost/c1/hello.txt', { 'x-ms-version': '2026-04-06', 'x-ms-range': 'bytes=0-4' }],
    ['GET', 'https://127.0.0.1:8443/myacct/c1/dir/a%20b.txt?comp=metadata', { 'x-ms-version': '2026-04-06' }],
    ['PUT', 'https://127.0.0.1:8443/myacct/c1?restype=container', { 'x-ms-version': '2026-04-06', 'x-ms-meta-Project': 'keyless', 'x-ms-meta-a_b': '1', 'x-ms-meta-a1': '2' }],
    ['PUT', 'https://127.0.0.1:8443/myacct/c1/b?comp=block&blockid=AAAA', { 'x-ms-version': '2026-04-06', 'content-language': 'en', 'content-encoding': 'gzip' }],
    ['GET', 'https://127.0.0.1:8443/myacct/c1?restype=container&comp=list&prefix=&delimiter=%2F', { 'x-ms-version': '2026-04-06', 'if-none-match': '"0x1"' }],
  ])('%s %s', async (method, url, headers) => {
    const r = await signWithSdk(method, url, headers, method === 'PUT' ? 'hello' : undefined);
    const auth = parseSharedKeyAuthorization(r.authorization)!;
    expect(verifySharedKey(r, auth, keys)).toEqual({ ok: true, keyName: 'key2' });
  });

  it('rejects a request altered after signing, and reports the documented string-to-sign', async () => {
    const r = await signWithSdk('GET', 'https://127.0.0.1:8443/myacct/c1/hello.txt', { 'x-ms-version': '2026-04-06' });
    const auth = parseSharedKeyAuthorization(r.authorization)!;
    const tampered = { ...r, rawPath: '/myacct/c1/other.txt' };
    const v = verifySharedKey(tampered, auth, keys);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.stringToSign.endsWith('/myacct/myacct/c1/other.txt')).toBe(true);
    expect(verifySharedKey(r, auth, [keys[0]!])).toMatchObject({ ok: false });
  });

  it('tries only a handful of canonical forms, all binding verb, path and query', () => {
    const r = req('PUT', 'https://a.blob.x/c/b?comp=block&x=', { 'content-language': 'en', 'content-encoding': 'gzip', date: 'x', 'x-ms-date': 'y' });
    const all = candidates(r, 'a', 'SharedKey');
    expect(all.length).toBeLessThanOrEqual(16);
    for (const s of all) {
      expect(s.startsWith('PUT\n')).toBe(true);
      expect(s).toContain('/a/c/b');
      expect(s).toContain('comp:block');
    }
  });
});
