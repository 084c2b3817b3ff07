import type { KeyObject } from 'node:crypto';
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { keyringError, keyringSetupError } from './errors.js';
import type { MasterKeyProvider } from './master-key.js';
import { DATA_KEY_ID_RE, formatSealed, IV_BYTES, parseSealed, SEALED_VERSION, TAG_BYTES } from './sealed.js';

export interface WrappedDataKey {
  id: string;
  wrapped: Buffer;
  createdAt: number;
}

/** Persistence for wrapped data keys; the lead's SQL store implements it, tests use memoryDataKeyStore(). */
export interface DataKeyStore {
  loadWrappedDataKeys(): Promise<WrappedDataKey[]>;
  saveWrappedDataKey(k: WrappedDataKey): Promise<void>;
}

export interface KeyringOptions {
  clock?: Clock;
}

const DATA_KEY_BYTES = 32;

interface DataKey {
  id: string;
  key: KeyObject;
  createdAt: number;
}

/**
 * The AAD binds a ciphertext to the data key id it claims and to the caller's record (`aad`), so a value
 * copied to another row, or relabelled with another key id, fails authentication. The key id cannot contain
 * ':', so the concatenation is unambiguous.
 */
const aadBytes = (keyId: string, aad: string): Buffer => Buffer.from(`keyless/keyring/${SEALED_VERSION}:${keyId}:${aad}`, 'utf8');

/** The newest key seals; ties (same millisecond, two replicas) are broken by id so every process picks the same one. */
const newer = (a: DataKey, b: DataKey): boolean => a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.id > b.id);

/**
 * Envelope encryption for secrets at rest: values are sealed with AES-256-GCM under a data key; data keys are
 * stored only wrapped by the master key. seal/open are synchronous (data keys stay unwrapped in memory) so
 * request paths never wait on the master key provider.
 */
export class Keyring {
  private readonly keys = new Map<string, DataKey>();
  private current!: DataKey;
  /** Serializes reload/rotate so two concurrent calls cannot interleave their reads and writes. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly provider: MasterKeyProvider,
    private readonly store: DataKeyStore,
    private readonly clock: Clock,
  ) {}

  /**
   * Loads and unwraps every stored data key — a wrong master key fails here, at start-up, not on the first
   * secret read — and creates the first data key when there is none.
   */
  static async open(provider: MasterKeyProvider, store: DataKeyStore, options: KeyringOptions = {}): Promise<Keyring> {
    const kr = new Keyring(provider, store, options.clock ?? systemClock);
    await kr.reload();
    return kr;
  }

  get currentKeyId(): string {
    return this.current.id;
  }

  get dataKeyIds(): string[] {
    return [...this.keys.keys()];
  }

  seal(plaintext: Buffer | string, aad: string): string {
    requireAad(aad);
    const { id, key } = this.current;
    // Random 96-bit IVs: safe for far more than 2^32 seals per data key would allow, and rotateDataKey resets the count.
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aadBytes(id, aad));
    const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
    return formatSealed({ keyId: id, iv, ciphertext, tag: cipher.getAuthTag() });
  }

  open(sealed: string, aad: string): Buffer {
    requireAad(aad);
    const parts = parseSealed(sealed);
    if (typeof parts === 'string') throw keyringError(`sealed value is malformed: ${parts} (aad ${aad})`);
    const dk = this.keys.get(parts.keyId);
    // Another replica may have rotated since we loaded; the caller can reload() and retry.
    if (!dk) throw keyringError(`sealed value names unknown data key ${parts.keyId} (aad ${aad}); reload() may find it`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', dk.key, parts.iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aadBytes(dk.id, aad));
      decipher.setAuthTag(parts.tag);
      return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]);
    } catch (e) {
      // GCM cannot tell a wrong aad from a tampered value, and neither can we.
      throw keyringError(`authentication failed opening a sealed value with data key ${dk.id}: tampered, or sealed for another record than ${aad}`, e);
    }
  }

  /** A new data key seals from now on; old keys stay loaded so everything sealed before still opens. */
  rotateDataKey(): Promise<void> {
    return this.serialized(async () => {
      const createdAt = Math.max(this.clock.now(), this.current.createdAt + 1);
      await this.createDataKey(createdAt);
      await this.load();
    });
  }

  /** Picks up data keys other replicas created (rotation) since this keyring was opened. */
  reload(): Promise<void> {
    return this.serialized(() => this.load());
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async load(): Promise<void> {
    let records = await this.store.loadWrappedDataKeys();
    if (records.length === 0) {
      await this.createDataKey(this.clock.now());
      // Read back rather than trust our own write: with replicas starting together, everyone converges on the stored set.
      records = await this.store.loadWrappedDataKeys();
    }
    for (const r of records) {
      if (this.keys.has(r.id)) continue;
      if (!DATA_KEY_ID_RE.test(r.id)) throw keyringSetupError(`stored data key id ${JSON.stringify(r.id)} is malformed`);
      let raw: Buffer;
      try {
        raw = await this.provider.unwrap(r.wrapped);
      } catch (e) {
        throw keyringSetupError(
          `cannot unwrap data key ${r.id} with master key ${this.provider.id}: wrong master key, or the stored data key is corrupted`,
          e,
        );
      }
      if (raw.length !== DATA_KEY_BYTES) throw keyringSetupError(`data key ${r.id} unwrapped to ${raw.length} bytes, expected ${DATA_KEY_BYTES}`);
      this.keys.set(r.id, { id: r.id, key: createSecretKey(raw), createdAt: r.createdAt });
      raw.fill(0);
    }
    let current: DataKey | undefined;
    for (const k of this.keys.values()) if (!current || newer(k, current)) current = k;
    if (!current) throw keyringSetupError('data key store returned no keys after creating one');
    this.current = current;
  }

  /** Persisted before use: a value sealed under a key that never reached the store could not be opened after a restart. */
  private async createDataKey(createdAt: number): Promise<void> {
    const raw = randomBytes(DATA_KEY_BYTES);
    const id = randomBytes(9).toString('base64url');
    try {
      const wrapped = await this.provider.wrap(raw);
      await this.store.saveWrappedDataKey({ id, wrapped, createdAt });
    } finally {
      raw.fill(0);
    }
  }
}

function requireAad(aad: string): void {
  // An empty aad would make values interchangeable between records, which is what the aad exists to prevent.
  if (typeof aad !== 'string' || aad.length === 0) throw keyringError('aad must be a non-empty string naming the record');
}
