import { createHmac, timingSafeEqual } from 'node:crypto';
import { decodeComponent } from '../query.js';

/**
 * Shared Key and Shared Key Lite (learn.microsoft.com "Authorize with Shared Key"; clients.md §2.3). The
 * canonical form is the documented one; the SDKs deviate in small ways, so a request is accepted if its
 * signature matches any of a few canonicalizations they are known to produce (see `candidates`). Every
 * candidate still binds the verb, the x-ms-* headers, the path and the query, so none widens what a key signs.
 */

export type HeaderBag = Record<string, string | string[] | undefined>;

export interface SignableRequest {
  method: string;
  /** The path exactly as sent (percent-encoded). Path-style URLs keep their account segment. */
  rawPath: string;
  rawQuery: string;
  /** Node's lower-cased header map. */
  headers: HeaderBag;
}

export interface SharedKeyAuthorization {
  scheme: 'SharedKey' | 'SharedKeyLite';
  account: string;
  signature: string;
}

export interface NamedKey {
  keyName: string;
  value: Buffer;
}

export function parseSharedKeyAuthorization(header: string): SharedKeyAuthorization | undefined {
  const m = /^(SharedKey|SharedKeyLite)\s+([^:\s]+):(\S+)\s*$/.exec(header.trim());
  if (!m) return undefined;
  return { scheme: m[1] as SharedKeyAuthorization['scheme'], account: m[2]!, signature: m[3]! };
}

const one = (v: string | string[] | undefined): string => (v === undefined ? '' : Array.isArray(v) ? v.join(',') : v);

interface Variant {
  /** JS SDK (storage-common) signs Content-Language before Content-Encoding. */
  languageFirst: boolean;
  /** .NET's culture-aware header ordering (hyphens and most punctuation ignored) instead of ordinal. */
  cultureOrder: boolean;
  /** The JS SDK drops query pairs with an empty value or no `=`. */
  dropEmptyQuery: boolean;
  /** With x-ms-date present the documented Date line is empty; clients that also send Date differ. */
  blankDate: boolean;
}

const DOCUMENTED: Variant = { languageFirst: false, cultureOrder: false, dropEmptyQuery: false, blankDate: false };

const ordinal = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * .NET's en-US culture-aware order, restricted to what header names can contain (RFC 9110 tokens), which is
 * what the service (and the JS SDK, imitating it) sorts x-ms-* headers by: `-` and `'` are ignored, other
 * symbols sort before digits, digits before letters, letters without case. Ties fall back to ordinal.
 */
const SYMBOLS = "!#$%&*.^_`|~+";
function cultureKey(name: string): number[] {
  const key: number[] = [];
  for (const ch of name.toLowerCase()) {
    if (ch === '-' || ch === "'") continue;
    const sym = SYMBOLS.indexOf(ch);
    if (sym >= 0) key.push(100 + sym);
    else if (ch >= '0' && ch <= '9') key.push(200 + ch.charCodeAt(0));
    else if (ch >= 'a' && ch <= 'z') key.push(400 + ch.charCodeAt(0));
    else key.push(1000 + ch.codePointAt(0)!);
  }
  return key;
}
function cultureCompare(a: string, b: string): number {
  const x = cultureKey(a);
  const y = cultureKey(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length || ordinal(a, b);
}

function canonicalHeaders(headers: HeaderBag, cultureOrder: boolean): string {
  const names = Object.keys(headers)
    .map((n) => n.toLowerCase())
    .filter((n) => n.startsWith('x-ms-'));
  names.sort(cultureOrder ? cultureCompare : ordinal);
  return names.map((n) => `${n}:${one(headers[n]).trimStart()}\n`).join('');
}

function canonicalQuery(rawQuery: string, dropEmpty: boolean): string {
  const q = rawQuery.startsWith('?') ? rawQuery.slice(1) : rawQuery;
  const byName = new Map<string, string[]>();
  for (const pair of q.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (dropEmpty && (eq <= 0 || eq === pair.length - 1)) continue;
    const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? '' : decodeComponent(pair.slice(eq + 1));
    const list = byName.get(name) ?? [];
    list.push(value);
    byName.set(name, list);
  }
  return [...byName.keys()]
    .sort(ordinal)
    .map((n) => `\n${n}:${byName.get(n)!.sort(ordinal).join(',')}`)
    .join('');
}

/** The documented Shared Key string-to-sign (service version 2015-02-21 and later). */
export function sharedKeyStringToSign(req: SignableRequest, account: string, v: Variant = DOCUMENTED): string {
  const h = (name: string) => one(req.headers[name]);
  const length = h('content-length') === '0' ? '' : h('content-length');
  const date = v.blankDate ? '' : h('date');
  const [first, second] = v.languageFirst ? [h('content-language'), h('content-encoding')] : [h('content-encoding'), h('content-language')];
  return (
    [
      req.method.toUpperCase(),
      first,
      second,
      length,
      h('content-md5'),
      h('content-type'),
      date,
      h('if-modified-since'),
      h('if-match'),
      h('if-none-match'),
      h('if-unmodified-since'),
      h('range'),
    ].join('\n') +
    '\n' +
    canonicalHeaders(req.headers, v.cultureOrder) +
    `/${account}${req.rawPath || '/'}` +
    canonicalQuery(req.rawQuery, v.dropEmptyQuery)
  );
}

/** Shared Key Lite: fewer headers, and only `comp` from the query. */
export function sharedKeyLiteStringToSign(req: SignableRequest, account: string, v: Variant = DOCUMENTED): string {
  const h = (name: string) => one(req.headers[name]);
  const comp = new URLSearchParams(req.rawQuery).get('comp');
  return (
    [req.method.toUpperCase(), h('content-md5'), h('content-type'), v.blankDate ? '' : h('date')].join('\n') +
    '\n' +
    canonicalHeaders(req.headers, v.cultureOrder) +
    `/${account}${req.rawPath || '/'}` +
    (comp !== null ? `?comp=${comp}` : '')
  );
}

/** The distinct strings-to-sign worth trying for this request, documented form first. */
export function candidates(req: SignableRequest, account: string, scheme: SharedKeyAuthorization['scheme']): string[] {
  const variants: Variant[] = [DOCUMENTED];
  const add = (change: Partial<Variant>) => {
    for (const v of [...variants]) variants.push({ ...v, ...change });
  };
  if (req.headers['content-language'] && req.headers['content-encoding']) add({ languageFirst: true });
  add({ cultureOrder: true });
  if (hasEmptyQueryPair(req.rawQuery)) add({ dropEmptyQuery: true });
  if (req.headers['date'] && req.headers['x-ms-date']) add({ blankDate: true });
  const build = scheme === 'SharedKey' ? sharedKeyStringToSign : sharedKeyLiteStringToSign;
  return [...new Set(variants.map((v) => build(req, account, v)))];
}

function hasEmptyQueryPair(rawQuery: string): boolean {
  const q = rawQuery.startsWith('?') ? rawQuery.slice(1) : rawQuery;
  return q.split('&').some((pair) => pair !== '' && (pair.indexOf('=') <= 0 || pair.endsWith('=')));
}

export const hmacSha256 = (key: Buffer, text: string): string => createHmac('sha256', key).update(text, 'utf8').digest('base64');

export function signaturesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export type SharedKeyVerdict = { ok: true; keyName: string } | { ok: false; stringToSign: string };

/** Checks the signature against every key (key1, key2: both are valid at once, which is what makes rotation work). */
export function verifySharedKey(req: SignableRequest, auth: SharedKeyAuthorization, keys: NamedKey[]): SharedKeyVerdict {
  const texts = candidates(req, auth.account, auth.scheme);
  for (const text of texts) {
    for (const k of keys) if (signaturesEqual(hmacSha256(k.value, text), auth.signature)) return { ok: true, keyName: k.keyName };
  }
  return { ok: false, stringToSign: texts[0]! };
}
