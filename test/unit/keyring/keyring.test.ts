import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { KeylessError } from '../../../src/core/errors.js';
import { Keyring, memoryDataKeyStore, rawMasterKeyProvider } from '../../../src/keyring/index.js';

const AAD = 'kv-secret:myvault/db-password/0123abcd';

async function fresh() {
  const store = memoryDataKeyStore();
  const provider = rawMasterKeyProvider(randomBytes(32), 'test-master');
  const keyring = await Keyring.open(provider, store);
  return { store, provider, keyring };
}

/** Runs fn and returns the KeylessError it throws (failing the test if it throws nothing or something else). */
function keyringErrorOf(fn: () => unknown): KeylessError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KeylessError);
    const k = e as KeylessError;
    expect(k.status).toBe(500);
    expect(k.code).toBe('KeyringError');
    return k;
  }
  throw new Error('expected a KeyringError, nothing was thrown');
}

const b64 = (b: Buffer) => b.toString('base64url');
const unb64 = (s: string) => Buffer.from(s, 'base64url');

describe('Keyring seal/open', () => {
  it('round-trips strings, buffers and empty values', async () => {
    const { keyring } = await fresh();
    expect(keyring.open(keyring.seal('s3cr3t value ✓', AAD), AAD).toString('utf8')).toBe('s3cr3t value ✓');
    const bin = randomBytes(1000);
    expect(keyring.open(keyring.seal(bin, AAD), AAD).equals(bin)).toBe(true);
    expect(keyring.open(keyring.seal('', AAD), AAD).length).toBe(0);
  });

  it('produces version.dataKeyId.iv.ciphertext.tag, with a fresh IV each time', async () => {
    const { keyring } = await fresh();
    const a = keyring.seal('same', AAD);
    const b = keyring.seal('same', AAD);
    expect(a).not.toBe(b);
    const [version, keyId, iv, ct, tag, ...rest] = a.split('.');
    expect(rest).toEqual([]);
    expect(version).toBe('v1');
    expect(keyId).toBe(keyring.currentKeyId);
    expect(unb64(iv!)).toHaveLength(12);
    expect(unb64(ct!)).toHaveLength(4);
    expect(unb64(tag!)).toHaveLength(16);
  });

  it('binds a value to its record: the wrong aad (a row it was copied to) fails', async () => {
    const { keyring } = await fresh();
    const sealed = keyring.seal('v', 'kv-secret:vault1/a/1');
    const err = keyringErrorOf(() => keyring.open(sealed, 'kv-secret:vault1/b/1'));
    expect(err.detail).toMatch(/authentication failed/);
    // The public message never says which record or key: it may reach a client.
    expect(err.message).not.toContain('vault1');
    expect(keyring.open(sealed, 'kv-secret:vault1/a/1').toString()).toBe('v');
  });

  it('detects a flipped byte in every part', async () => {
    const { keyring } = await fresh();
    const sealed = keyring.seal('tamper me please', AAD);
    const parts = sealed.split('.');
    const flipByte = (i: number) => {
      const copy = [...parts];
      const bytes = unb64(copy[i]!);
      bytes[0] = bytes[0]! ^ 0x01;
      copy[i] = b64(bytes);
      return copy.join('.');
    };
    const replaceChar = (i: number) => {
      const copy = [...parts];
      const s = copy[i]!;
      copy[i] = (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
      return copy.join('.');
    };
    const tampered = {
      version: ['v2', ...parts.slice(1)].join('.'),
      keyId: replaceChar(1),
      iv: flipByte(2),
      ciphertext: flipByte(3),
      tag: flipByte(4),
      truncated: parts.slice(0, 4).join('.'),
      extraPart: `${sealed}.x`,
    };
    for (const [what, s] of Object.entries(tampered)) {
      const err = keyringErrorOf(() => keyring.open(s, AAD));
      expect(err.detail, what).toBeTruthy();
    }
  });

  it('rejects non-canonical base64url even when it decodes to the same bytes', async () => {
    const { keyring } = await fresh();
    const parts = keyring.seal('x', AAD).split('.');
    // A 16-byte tag is 22 base64url chars; the last one carries 4 unused bits. Setting one keeps the bytes.
    const tag = parts[4]!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(tag.at(-1)!);
    const sibling = tag.slice(0, -1) + alphabet[last ^ 1];
    expect(unb64(sibling).equals(unb64(tag))).toBe(true);
    parts[4] = sibling;
    expect(keyringErrorOf(() => keyring.open(parts.join('.'), AAD)).detail).toMatch(/malformed tag/);
  });

  it('refuses an empty aad on seal and open', async () => {
    const { keyring } = await fresh();
    keyringErrorOf(() => keyring.seal('v', ''));
    keyringErrorOf(() => keyring.open(keyring.seal('v', AAD), ''));
  });

  it('property: any single-character edit of a sealed value fails to open', async () => {
    const { keyring } = await fresh();
    const sealed = keyring.seal('property-tested plaintext', AAD);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    fc.assert(
      fc.property(fc.nat({ max: sealed.length - 1 }), fc.constantFrom(...alphabet), (pos, ch) => {
        fc.pre(sealed[pos] !== ch);
        const edited = sealed.slice(0, pos) + ch + sealed.slice(pos + 1);
        keyringErrorOf(() => keyring.open(edited, AAD));
      }),
      { numRuns: 300 },
    );
  });

  it('property: the plaintext (raw, base64 or base64url) never appears in the sealed string', async () => {
    const { keyring } = await fresh();
    fc.assert(
      fc.property(fc.string({ minLength: 8, maxLength: 200 }), fc.string({ minLength: 1, maxLength: 40 }), (plain, aad) => {
        const sealed = keyring.seal(plain, aad);
        const bytes = Buffer.from(plain, 'utf8');
        expect(sealed).not.toContain(plain);
        expect(sealed).not.toContain(bytes.toString('base64url').slice(0, 10));
        expect(sealed).not.toContain(bytes.toString('base64').slice(0, 10));
        expect(sealed).not.toContain(bytes.toString('hex').slice(0, 16));
        expect(keyring.open(sealed, aad).toString('utf8')).toBe(plain);
      }),
      { numRuns: 200 },
    );
  });

  it('property: arbitrary bytes round-trip under arbitrary aads', async () => {
    const { keyring } = await fresh();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.string({ minLength: 1 }), (data, aad) => {
        expect(keyring.open(keyring.seal(Buffer.from(data), aad), aad).equals(Buffer.from(data))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('Keyring data keys', () => {
  it('creates and persists exactly one wrapped data key on first open, and reuses it on the next', async () => {
    const { store, provider, keyring } = await fresh();
    expect(store.records).toHaveLength(1);
    const [rec] = store.records;
    expect(rec!.id).toBe(keyring.currentKeyId);
    expect(rec!.wrapped.length).toBe(1 + 12 + 32 + 16);
    const again = await Keyring.open(provider, store);
    expect(store.records).toHaveLength(1);
    expect(again.currentKeyId).toBe(keyring.currentKeyId);
    expect(again.open(keyring.seal('shared', AAD), AAD).toString()).toBe('shared');
  });

  it('rotation: new seals use the new key, old values still open, also after a restart', async () => {
    const { store, provider, keyring } = await fresh();
    const oldId = keyring.currentKeyId;
    const before = keyring.seal('before', AAD);
    await keyring.rotateDataKey();
    expect(keyring.currentKeyId).not.toBe(oldId);
    const after = keyring.seal('after', AAD);
    expect(after.split('.')[1]).toBe(keyring.currentKeyId);
    expect(before.split('.')[1]).toBe(oldId);
    expect(keyring.open(before, AAD).toString()).toBe('before');
    expect(keyring.open(after, AAD).toString()).toBe('after');
    expect(store.records).toHaveLength(2);

    const restarted = await Keyring.open(provider, store);
    expect(restarted.currentKeyId).toBe(keyring.currentKeyId);
    expect(restarted.open(before, AAD).toString()).toBe('before');
    expect(restarted.open(after, AAD).toString()).toBe('after');
  });

  it('rotation within one millisecond (frozen clock) still makes the new key current, after restart too', async () => {
    const store = memoryDataKeyStore();
    const provider = rawMasterKeyProvider(randomBytes(32));
    const clock = { now: () => 1_700_000_000_000 };
    const keyring = await Keyring.open(provider, store, { clock });
    await Promise.all([keyring.rotateDataKey(), keyring.rotateDataKey()]);
    expect(store.records).toHaveLength(3);
    const newest = store.records.reduce((a, b) => (b.createdAt > a.createdAt ? b : a));
    expect(keyring.currentKeyId).toBe(newest.id);
    expect((await Keyring.open(provider, store, { clock })).currentKeyId).toBe(newest.id);
  });

  it('a value sealed under a data key this keyring does not know fails, until reload() picks the key up', async () => {
    const { store, provider, keyring: a } = await fresh();
    const b = await Keyring.open(provider, store);
    await a.rotateDataKey();
    const sealed = a.seal('from replica a', AAD);
    expect(keyringErrorOf(() => b.open(sealed, AAD)).detail).toMatch(/unknown data key/);
    await b.reload();
    expect(b.open(sealed, AAD).toString()).toBe('from replica a');
    expect(b.currentKeyId).toBe(a.currentKeyId);
  });

  it('a wrong master key fails Keyring.open with a clear error', async () => {
    const { store, keyring } = await fresh();
    keyring.seal('x', AAD);
    const wrong = rawMasterKeyProvider(randomBytes(32), 'other-master');
    const err = await Keyring.open(wrong, store).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KeylessError);
    expect((err as KeylessError).code).toBe('KeyringError');
    expect((err as KeylessError).message).toMatch(/cannot unwrap data key .* with master key other-master: wrong master key/);
  });

  it('rejects a corrupted wrapped data key and a malformed stored key id', async () => {
    const { store, provider } = await fresh();
    const good = store.records[0]!;
    const flipped = Buffer.from(good.wrapped);
    flipped[20] = flipped[20]! ^ 0xff;
    await expect(Keyring.open(provider, memoryDataKeyStore([{ ...good, wrapped: flipped }]))).rejects.toThrow(/cannot unwrap data key/);
    await expect(Keyring.open(provider, memoryDataKeyStore([{ ...good, id: 'has.dot' }]))).rejects.toThrow(/malformed/);
  });
});
