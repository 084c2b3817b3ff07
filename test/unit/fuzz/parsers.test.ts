import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isKeylessError } from '../../../src/core/errors.js';
import { isAncestorOrSelf, parseScope, tryParseScope } from '../../../src/core/scope.js';
import { splitTarget } from '../../../src/core/request-target.js';
import { parseRange, resolveRange } from '../../../src/blob/range.js';
import { Query } from '../../../src/blob/query.js';
import { parseSas, verifySas } from '../../../src/blob/auth/sas.js';
import { parseSharedKeyAuthorization, verifySharedKey } from '../../../src/blob/auth/shared-key.js';
import { checkBlobName, checkContainerName, checkMetadata } from '../../../src/blob/names.js';
import { isValidSecretName, isValidVaultName, vaultNameFromHost } from '../../../src/keyvault/names.js';
import { NASTY, fuzzRuns } from './runs.js';

/**
 * Pure parsers that see attacker-controlled text before any authentication: they either answer or throw the
 * coded KeylessError their surface turns into a 4xx body — never a TypeError, RangeError or the like (a 500).
 */

const nasty = fc.oneof(fc.string({ unit: 'grapheme-composite', maxLength: 40 }), fc.constantFrom(...NASTY), fc.string({ unit: 'binary', maxLength: 20 }));
const text = fc.array(nasty, { maxLength: 8 }).map((parts) => parts.join(''));

/** Percent-encodes like a client would, or leaves the text raw when it cannot be encoded (a lone surrogate). */
function encodeLoosely(v: string): string {
  try {
    return encodeURIComponent(v);
  } catch {
    return v;
  }
}

/** Runs fn; fine if it returns or throws a client-error KeylessError. */
function onlyCodedErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!isKeylessError(e) || e.status < 400 || e.status >= 500) throw e;
  }
}

const VALID_IDS = [
  '/subscriptions/11111111-2222-3333-4444-555555555555',
  '/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-1',
  '/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-1/providers/Microsoft.Storage/storageAccounts/acct/blobServices/default/containers/c1',
  '/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-1/providers/Microsoft.Compute/virtualMachines/vm/providers/Microsoft.Authorization/roleAssignments/x',
  '/providers/Microsoft.Management/managementGroups/mg',
  '/',
];

/** A valid id with one edit: a segment replaced, inserted, dropped or duplicated, or nasty text spliced in. */
const mutatedId = fc
  .tuple(fc.constantFrom(...VALID_IDS), fc.nat(), fc.constantFrom('replace', 'insert', 'drop', 'dup', 'splice'), text)
  .map(([id, at, op, t]) => {
    const segs = id.split('/');
    const i = at % segs.length;
    if (op === 'replace') segs[i] = t;
    else if (op === 'insert') segs.splice(i, 0, t);
    else if (op === 'drop') segs.splice(i, 1);
    else if (op === 'dup') segs.splice(i, 0, segs[i]!);
    else return id.slice(0, at % (id.length + 1)) + t + id.slice(at % (id.length + 1));
    return segs.join('/');
  });

describe('fuzz: ARM scopes', () => {
  it('parseScope answers a Scope or a coded 400; a parsed scope round-trips and its ancestors contain it', () => {
    fc.assert(
      fc.property(fc.oneof(text, mutatedId), (input) => {
        let s;
        try {
          s = parseScope(input);
        } catch (e) {
          expect(isKeylessError(e) && e.status === 400, String(e)).toBe(true);
          expect(tryParseScope(input)).toBeUndefined();
          return;
        }
        const again = parseScope(s.id);
        expect(again.key).toBe(s.key);
        expect(again.level).toBe(s.level);
        for (const a of s.ancestors()) expect(isAncestorOrSelf(a, s)).toBe(true);
        expect(s.ancestors().at(-1)!.id).toBe('/');
      }),
      { numRuns: fuzzRuns(3000) },
    );
  });

  it('splitTarget never throws and keeps the raw path', () => {
    fc.assert(
      fc.property(text, (t) => {
        const { path } = splitTarget(t);
        expect(t.startsWith(path)).toBe(true);
      }),
      { numRuns: fuzzRuns(2000) },
    );
  });
});

describe('fuzz: Blob request inputs', () => {
  const rangeText = fc.oneof(
    text,
    fc.tuple(fc.constantFrom('bytes=', 'BYTES =', 'bytes= ', 'items='), fc.oneof(fc.bigInt({ min: -1n, max: 10n ** 20n }).map(String), text), fc.constantFrom('-', '--', ''), fc.oneof(fc.bigInt({ min: -1n, max: 10n ** 20n }).map(String), fc.constant(''), text)).map((p) => p.join('')),
  );
  it('Range / x-ms-range: a range inside the blob, a coded 400/416, or the whole blob', () => {
    fc.assert(
      fc.property(fc.option(rangeText, { nil: undefined }), fc.option(rangeText, { nil: undefined }), fc.nat(1000), (range, xms, size) => {
        onlyCodedErrors(() => {
          const r = resolveRange(parseRange(range, xms), size);
          expect(r.start).toBeGreaterThanOrEqual(0);
          expect(r.length).toBe(r.end - r.start + 1);
          if (size > 0) expect(r.end).toBeLessThan(size);
        });
      }),
      { numRuns: fuzzRuns(3000) },
    );
  });

  const KEYS = [{ keyName: 'key1', value: Buffer.alloc(64, 1) }];
  const sasField = fc.oneof(text, fc.constantFrom('', '2015-04-05', '2020-12-06', '2026-04-06', '1999-01-01', 'rwdlacup', 'b', 'c', 'bs', 'sco', 'https', 'http,https', '127.0.0.1-127.0.0.9', '::1', '2001-01-01T00:00:00Z', '9999-12-31T23:59:59Z', 'not-a-date'));
  const sasQuery = fc
    .dictionary(fc.constantFrom('sv', 'sig', 'sp', 'st', 'se', 'sip', 'spr', 'ss', 'srt', 'sr', 'si', 'ses', 'skoid', 'rscc', 'snapshot', 'SIG', 'Sv'), sasField, { maxKeys: 12 })
    .map((d) => Object.entries(d).map(([k, v]) => `${k}=${encodeLoosely(v)}`).join('&'));
  it('SAS query: parsed and verified, or refused with a coded 4xx', () => {
    fc.assert(
      fc.property(sasQuery, fc.option(text, { nil: undefined }), fc.option(text, { nil: undefined }), (q, container, blob) => {
        onlyCodedErrors(() => {
          const p = parseSas(new Query(q));
          if (p) verifySas(p, { account: 'acct', container, blob }, KEYS, { nowMs: Date.now(), remoteAddress: '127.0.0.1', protocol: 'https' });
        });
      }),
      { numRuns: fuzzRuns(3000) },
    );
  });

  it('Shared Key: any Authorization header parses or not, and any signature is simply wrong', () => {
    const header = fc.oneof(text, fc.tuple(fc.constantFrom('SharedKey ', 'SharedKeyLite ', 'sharedkey ', 'SharedKey  '), text, fc.constantFrom(':', '::', ''), fc.oneof(text, fc.base64String())).map((p) => p.join('')));
    const headers = fc.dictionary(fc.constantFrom('x-ms-date', 'x-ms-version', 'content-length', 'content-type', 'range', 'x-ms-meta-a', 'date', 'if-match'), fc.oneof(text, fc.array(text, { maxLength: 3 })), { maxKeys: 6 });
    fc.assert(
      fc.property(header, headers, text, text, (h, hs, path, query) => {
        const auth = parseSharedKeyAuthorization(h);
        if (!auth) return;
        const v = verifySharedKey({ method: 'GET', rawPath: `/${path}`, rawQuery: query, headers: hs }, auth, KEYS);
        expect(v.ok).toBe(false);
      }),
      { numRuns: fuzzRuns(2000) },
    );
  });

  it('container names, blob names and metadata: valid or a coded 400', () => {
    fc.assert(
      fc.property(text, text, fc.dictionary(text, text, { maxKeys: 4 }), (c, b, meta) => {
        onlyCodedErrors(() => checkContainerName(c));
        onlyCodedErrors(() => checkBlobName(b));
        onlyCodedErrors(() => checkMetadata(meta));
      }),
      { numRuns: fuzzRuns(2000) },
    );
  });
});

describe('fuzz: Key Vault names', () => {
  it('name predicates and the Host parser never throw', () => {
    fc.assert(
      fc.property(text, fc.option(text, { nil: undefined }), (name, host) => {
        expect(typeof isValidSecretName(name)).toBe('boolean');
        expect(typeof isValidVaultName(name)).toBe('boolean');
        const v = vaultNameFromHost(host, 'keyless.localhost');
        if (v !== undefined) expect(isValidVaultName(v)).toBe(true);
      }),
      { numRuns: fuzzRuns(2000) },
    );
  });
});
