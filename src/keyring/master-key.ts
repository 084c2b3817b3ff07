import fs from 'node:fs';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { keyringSetupError } from './errors.js';

/** Wraps and unwraps data keys. Only wrapped data keys are ever persisted. */
export interface MasterKeyProvider {
  /** Names the master key's source for error messages and logs (never its value). */
  readonly id: string;
  wrap(dataKey: Buffer): Promise<Buffer>;
  unwrap(wrapped: Buffer): Promise<Buffer>;
}

export const MASTER_KEY_BYTES = 32;
const WRAP_FORMAT = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Domain separation: a wrapped data key can never be confused with a sealed value made under the same key. */
const WRAP_AAD = Buffer.from('keyless/keyring/wrap/v1');

/**
 * AES-256-GCM key wrap: [format 0x01][iv 12][ciphertext][tag 16]. GCM (not RFC 3394 AES-KW) because it is
 * in every Node build and its tag turns "wrong master key" into a clean authentication failure.
 */
function aesGcmProvider(id: string, loadKey: () => Promise<KeyObject>): MasterKeyProvider {
  let key: Promise<KeyObject> | undefined;
  // Memoized, but a failed load is retried on the next call rather than cached forever.
  const getKey = (): Promise<KeyObject> => {
    key ??= loadKey().catch((e: unknown) => {
      key = undefined;
      throw e;
    });
    return key;
  };
  return {
    id,
    async wrap(dataKey) {
      const k = await getKey();
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', k, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(WRAP_AAD);
      const ct = Buffer.concat([cipher.update(dataKey), cipher.final()]);
      return Buffer.concat([Buffer.from([WRAP_FORMAT]), iv, ct, cipher.getAuthTag()]);
    },
    async unwrap(wrapped) {
      const k = await getKey();
      if (wrapped.length < 1 + IV_BYTES + TAG_BYTES || wrapped[0] !== WRAP_FORMAT) {
        throw keyringSetupError(`wrapped data key is malformed (master key ${id})`);
      }
      const iv = wrapped.subarray(1, 1 + IV_BYTES);
      const ct = wrapped.subarray(1 + IV_BYTES, wrapped.length - TAG_BYTES);
      const tag = wrapped.subarray(wrapped.length - TAG_BYTES);
      try {
        const decipher = createDecipheriv('aes-256-gcm', k, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(WRAP_AAD);
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(ct), decipher.final()]);
      } catch (e) {
        throw keyringSetupError(
          `cannot unwrap a data key with master key ${id}: the master key is not the one the data keys were wrapped with, or the stored key is corrupted`,
          e,
        );
      }
    },
  };
}

function masterKeyObject(bytes: Buffer, source: string): KeyObject {
  if (bytes.length !== MASTER_KEY_BYTES) {
    throw keyringSetupError(`master key from ${source} is ${bytes.length} bytes; it must be exactly ${MASTER_KEY_BYTES} random bytes`);
  }
  return createSecretKey(bytes);
}

/** A provider over a key already in memory (tests, or callers that fetch the key elsewhere). */
export function rawMasterKeyProvider(key: Buffer, id = 'raw'): MasterKeyProvider {
  const ko = masterKeyObject(key, id);
  return aesGcmProvider(id, () => Promise.resolve(ko));
}

export interface FileMasterKeyOptions {
  /** Called when the existing key file is readable by group/others (not refused: mounted secrets are often 0644). */
  warn?: (message: string) => void;
}

/**
 * 32 raw random bytes in a file, created 0600 on first use. Creation publishes the complete file with link(2),
 * which fails if the name exists, so two processes starting together agree on one key instead of the last
 * writer silently replacing a key the other has already wrapped data keys with.
 */
export function fileMasterKeyProvider(file: string, options: FileMasterKeyOptions = {}): MasterKeyProvider {
  const abs = path.resolve(file);
  return aesGcmProvider(`file:${abs}`, async () => {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(abs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw keyringSetupError(`cannot read master key file ${abs}`, e);
      bytes = createKeyFile(abs);
    }
    if (process.platform !== 'win32' && (fs.statSync(abs).mode & 0o077) !== 0) {
      options.warn?.(`master key file ${abs} is accessible by group/others; run: chmod 600 ${abs}`);
    }
    return masterKeyObject(bytes, `file ${abs}`);
  });
}

function createKeyFile(file: string): Buffer {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const bytes = randomBytes(MASTER_KEY_BYTES);
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    fs.writeFileSync(tmp, bytes, { mode: 0o600, flag: 'wx' });
    if (process.platform !== 'win32') fs.chmodSync(tmp, 0o600);
    fs.linkSync(tmp, file);
    return bytes;
  } catch (e) {
    // Someone else created it first: theirs is the key.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return fs.readFileSync(file);
    throw keyringSetupError(`cannot create master key file ${file}`, e);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * The master key from an environment variable holding 32 bytes in base64 (or base64url), e.g. from
 * `openssl rand -base64 32`. Read once, now, so a missing or malformed key fails at start-up.
 */
export function envMasterKeyProvider(varName = 'KEYLESS_MASTER_KEY', env: NodeJS.ProcessEnv = process.env): MasterKeyProvider {
  const raw = env[varName]?.trim();
  if (!raw) throw keyringSetupError(`environment variable ${varName} is not set; it must hold a base64-encoded 32-byte master key`);
  // Buffer's base64 decoder skips invalid characters; validate first so a mangled value is reported, not truncated.
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(raw)) throw keyringSetupError(`environment variable ${varName} is not valid base64`);
  const key = masterKeyObject(Buffer.from(raw, 'base64'), `environment variable ${varName}`);
  return aesGcmProvider(`env:${varName}`, () => Promise.resolve(key));
}
