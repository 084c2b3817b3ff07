import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeylessError } from '../../../src/core/errors.js';
import { envMasterKeyProvider, fileMasterKeyProvider, Keyring, memoryDataKeyStore, rawMasterKeyProvider } from '../../../src/keyring/index.js';

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-keyring-'));
const mode = (f: string) => fs.statSync(f).mode & 0o777;

describe('fileMasterKeyProvider', () => {
  it('creates a 32-byte key file 0600 (and its directory 0700) on first use, not before', async () => {
    const dir = path.join(tempDir(), 'data');
    const file = path.join(dir, 'master.key');
    const p = fileMasterKeyProvider(file);
    expect(fs.existsSync(file)).toBe(false);
    const dataKey = randomBytes(32);
    const wrapped = await p.wrap(dataKey);
    expect(fs.statSync(file).size).toBe(32);
    if (process.platform !== 'win32') {
      expect(mode(file)).toBe(0o600);
      expect(mode(dir)).toBe(0o700);
    }
    expect(wrapped.includes(dataKey)).toBe(false);
    expect(p.id).toBe(`file:${file}`);
    // No stray temporary files next to the key.
    expect(fs.readdirSync(dir)).toEqual(['master.key']);
    // Another process (a new provider) reads the same key back.
    expect((await fileMasterKeyProvider(file).unwrap(wrapped)).equals(dataKey)).toBe(true);
  });

  it('two providers on the same missing file agree on one key', async () => {
    const file = path.join(tempDir(), 'master.key');
    const [a, b] = [fileMasterKeyProvider(file), fileMasterKeyProvider(file)];
    const [wa, wb] = await Promise.all([a.wrap(Buffer.alloc(32, 1)), b.wrap(Buffer.alloc(32, 2))]);
    expect((await b.unwrap(wa)).equals(Buffer.alloc(32, 1))).toBe(true);
    expect((await a.unwrap(wb)).equals(Buffer.alloc(32, 2))).toBe(true);
  });

  it('refuses a key file of the wrong length, without overwriting it', async () => {
    const file = path.join(tempDir(), 'master.key');
    fs.writeFileSync(file, randomBytes(31), { mode: 0o600 });
    await expect(fileMasterKeyProvider(file).wrap(randomBytes(32))).rejects.toThrow(/31 bytes; it must be exactly 32/);
    fs.writeFileSync(file, `${randomBytes(32).toString('base64')}\n`);
    await expect(fileMasterKeyProvider(file).wrap(randomBytes(32))).rejects.toBeInstanceOf(KeylessError);
    expect(fs.statSync(file).size).toBe(45);
  });

  it.skipIf(process.platform === 'win32')('warns when the key file is readable by group/others', async () => {
    const file = path.join(tempDir(), 'master.key');
    fs.writeFileSync(file, randomBytes(32));
    fs.chmodSync(file, 0o644);
    const warnings: string[] = [];
    await fileMasterKeyProvider(file, { warn: (m) => warnings.push(m) }).wrap(randomBytes(32));
    expect(warnings).toEqual([`master key file ${file} is accessible by group/others; run: chmod 600 ${file}`]);
  });

  it('a different key file cannot unwrap: Keyring.open fails loudly', async () => {
    const dir = tempDir();
    const store = memoryDataKeyStore();
    const kr = await Keyring.open(fileMasterKeyProvider(path.join(dir, 'a.key')), store);
    const sealed = kr.seal('secret', 'kv-secret:v/s/1');
    const other = fileMasterKeyProvider(path.join(dir, 'b.key'));
    await expect(Keyring.open(other, store)).rejects.toThrow(/wrong master key/);
    await expect(other.unwrap(store.records[0]!.wrapped)).rejects.toThrow(/cannot unwrap a data key with master key file:/);
    // The right file still works after the failed attempt.
    const reopened = await Keyring.open(fileMasterKeyProvider(path.join(dir, 'a.key')), store);
    expect(reopened.open(sealed, 'kv-secret:v/s/1').toString()).toBe('secret');
  });
});

describe('envMasterKeyProvider', () => {
  const key = randomBytes(32);

  it('reads a base64 (or base64url) 32-byte key from KEYLESS_MASTER_KEY by default', async () => {
    const p = envMasterKeyProvider(undefined, { KEYLESS_MASTER_KEY: key.toString('base64') });
    expect(p.id).toBe('env:KEYLESS_MASTER_KEY');
    const q = envMasterKeyProvider('MK', { MK: ` ${key.toString('base64url')}\n` });
    const dk = randomBytes(32);
    expect((await q.unwrap(await p.wrap(dk))).equals(dk)).toBe(true);
    // Same bytes as the raw provider: the env var is just another way to hand over the key.
    expect((await rawMasterKeyProvider(key).unwrap(await p.wrap(dk))).equals(dk)).toBe(true);
  });

  it('fails at construction on a missing, malformed or short key, never echoing the value', () => {
    const short = randomBytes(16).toString('base64');
    expect(() => envMasterKeyProvider('MK', {})).toThrow(/MK is not set/);
    expect(() => envMasterKeyProvider('MK', { MK: 'not*base64!' })).toThrow(/not valid base64/);
    try {
      envMasterKeyProvider('MK', { MK: short });
      expect.unreachable();
    } catch (e) {
      expect((e as KeylessError).code).toBe('KeyringError');
      expect((e as Error).message).toMatch(/16 bytes; it must be exactly 32/);
      expect((e as Error).message).not.toContain(short);
    }
  });

  it('a wrong key fails to unwrap with a clear error', async () => {
    const wrapped = await envMasterKeyProvider('MK', { MK: key.toString('base64') }).wrap(randomBytes(32));
    const wrong = envMasterKeyProvider('MK', { MK: randomBytes(32).toString('base64') });
    await expect(wrong.unwrap(wrapped)).rejects.toThrow(/not the one the data keys were wrapped with/);
    await expect(wrong.unwrap(Buffer.from([1, 2, 3]))).rejects.toThrow(/malformed/);
  });
});
