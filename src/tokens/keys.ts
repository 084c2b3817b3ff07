import { createHash, createPrivateKey, createPublicKey, webcrypto, type KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { RS256_ALGORITHM, selfSignedSigningCertificate } from './cert.js';

export type KeyState = 'next' | 'active' | 'retired';

/** The public half as published in JWKS, in Entra's member order. `kid` equals `x5t`. */
export interface PublicJwk {
  readonly kty: 'RSA';
  readonly use: 'sig';
  readonly kid: string;
  readonly x5t: string;
  readonly n: string;
  readonly e: string;
  /** Standard (not url-safe) base64 DER, per RFC 7517 §4.7. */
  readonly x5c: readonly string[];
}

/** What the repository stores. Times are milliseconds since the epoch (Clock.now()). */
export interface SigningKeyRecord {
  kid: string;
  state: KeyState;
  alg: 'RS256';
  publicJwk: PublicJwk;
  /** `sealer.seal(pkcs8Pem, 'signing-key:' + kid)`; the PEM never reaches the repository in clear. */
  sealedPrivateKey: string;
  createdAt: number;
  activatedAt: number | null;
  retiredAt: number | null;
}

export interface SigningKeyRepository {
  list(): Promise<SigningKeyRecord[]>;
  upsert(rec: SigningKeyRecord): Promise<void>;
  remove(kid: string): Promise<void>;
}

/** Implemented by the keyring. `aad` binds a sealed blob to its purpose so blobs cannot be swapped between rows. */
export interface Sealer {
  seal(plaintext: Buffer | string, aad: string): string;
  open(sealed: string, aad: string): Buffer;
}

export interface LoadedKey {
  readonly kid: string;
  readonly x5t: string;
  readonly state: KeyState;
  readonly alg: 'RS256';
  readonly publicJwk: PublicJwk;
  /** WebCrypto key: jose's fastest verification path (a KeyObject would be converted on every call). */
  readonly verifyKey: webcrypto.CryptoKey;
  readonly createdAt: number;
  readonly activatedAt: number | null;
  readonly retiredAt: number | null;
}

/** Only the active key is handed out with its private half, so nothing can sign with a next or retired key. */
export interface ActiveKey extends LoadedKey {
  readonly privateKey: KeyObject;
}

export interface SigningKeysOptions {
  repo: SigningKeyRepository;
  sealer: Sealer;
  clock: Clock;
  /** Longest lifetime TokenIssuer may give a token; a retired key stays published this long (plus margin). */
  maxTokenLifetimeSec: number;
  /**
   * Extra time a retired key stays published after its last token could have expired. Covers verifier clock
   * skew (300 s, Azure's default) and a replica that signs with the old key until it reloads. Default 600.
   */
  graceMarginSec?: number;
}

const sealAad = (kid: string): string => `signing-key:${kid}`;

/** Entra's kid: base64url SHA-1 thumbprint of the certificate DER. */
export const thumbprint = (der: Buffer): string => createHash('sha1').update(der).digest('base64url');

interface Generated {
  record: SigningKeyRecord;
  privateKey: KeyObject;
  verifyKey: webcrypto.CryptoKey;
}

async function generate(sealer: Sealer, nowMs: number, state: KeyState): Promise<Generated> {
  const pair = (await webcrypto.subtle.generateKey(RS256_ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const der = await selfSignedSigningCertificate(pair, nowMs);
  const kid = thumbprint(der);
  const pub = await webcrypto.subtle.exportKey('jwk', pair.publicKey);
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', pair.privateKey));
  // node:crypto writes the PEM armour; nothing here builds key text by hand.
  const pem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString();
  const publicJwk: PublicJwk = Object.freeze({
    kty: 'RSA',
    use: 'sig',
    kid,
    x5t: kid,
    n: pub.n!,
    e: pub.e!,
    x5c: Object.freeze([der.toString('base64')]),
  });
  const record: SigningKeyRecord = {
    kid,
    state,
    alg: 'RS256',
    publicJwk,
    sealedPrivateKey: sealer.seal(pem, sealAad(kid)),
    createdAt: nowMs,
    activatedAt: state === 'active' ? nowMs : null,
    retiredAt: null,
  };
  return { record, privateKey: createPrivateKey(pem), verifyKey: await importVerifyKey(publicJwk) };
}

function importVerifyKey(jwk: PublicJwk): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey('jwk', { kty: 'RSA', n: jwk.n, e: jwk.e }, RS256_ALGORITHM, false, ['verify']);
}

/**
 * The signing key set, persisted through an injected repository. Life of a key:
 * created as `next` (published in JWKS, never signs, so relying parties that cache JWKS already know it),
 * then `active` (the one key that signs), then `retired` (published until every token it signed has expired),
 * then purged. There is always exactly one active and at least one next key.
 */
export class SigningKeys {
  private readonly repo: SigningKeyRepository;
  private readonly sealer: Sealer;
  private readonly clock: Clock;
  readonly maxTokenLifetimeSec: number;
  private readonly graceMs: number;

  private keys = new Map<string, LoadedKey>();
  private current!: ActiveKey;
  /** Private keys survive reloads so a reload does not unseal (and re-parse) every key again. */
  private readonly privateKeys = new Map<string, KeyObject>();
  private readonly verifyKeys = new Map<string, webcrypto.CryptoKey>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(opts: SigningKeysOptions) {
    if (!Number.isInteger(opts.maxTokenLifetimeSec) || opts.maxTokenLifetimeSec <= 0) {
      throw new RangeError('maxTokenLifetimeSec must be a positive integer');
    }
    this.repo = opts.repo;
    this.sealer = opts.sealer;
    this.clock = opts.clock;
    this.maxTokenLifetimeSec = opts.maxTokenLifetimeSec;
    this.graceMs = (opts.maxTokenLifetimeSec + (opts.graceMarginSec ?? 600)) * 1000;
  }

  /** Loads the key set, creating the first active and next keys on first start. */
  static async open(opts: SigningKeysOptions): Promise<SigningKeys> {
    const keys = new SigningKeys(opts);
    await keys.reload();
    return keys;
  }

  active(): ActiveKey {
    return this.current;
  }

  /** Any published key (next keys included: another replica may already have promoted one). */
  byKid(kid: string): LoadedKey | undefined {
    const key = this.keys.get(kid);
    if (!key || this.pastGrace(key, this.clock.now())) return undefined;
    return key;
  }

  /** Public keys only: active first (clients that ignore kid try it first), then next, then retired in grace. */
  jwks(): { keys: PublicJwk[] } {
    const now = this.clock.now();
    const order: Record<KeyState, number> = { active: 0, next: 1, retired: 2 };
    const published = [...this.keys.values()]
      .filter((k) => !this.pastGrace(k, now))
      .sort((a, b) => order[a.state] - order[b.state] || b.createdAt - a.createdAt);
    return { keys: published.map((k) => k.publicJwk) };
  }

  /** next → active, active → retired, a fresh next; retired keys past their grace are purged. */
  rotate(): Promise<void> {
    return this.serialized(async () => void (await this.sync(true)));
  }

  /**
   * Rotates only if the active key (as the repository says, not this replica's view) has been active for at least
   * `minActiveAgeSec`. Every replica can run the same schedule: the first one rotates, the others see a young
   * active key and only reload. Resolves to whether this call rotated.
   */
  rotateIfDue(minActiveAgeSec: number): Promise<boolean> {
    return this.serialized(() => this.sync(true, minActiveAgeSec * 1000));
  }

  /** Re-reads the repository (another replica rotated). Repairs the set only if it is broken. */
  reload(): Promise<void> {
    return this.serialized(async () => void (await this.sync(false)));
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private pastGrace(key: { state: KeyState; retiredAt: number | null }, now: number): boolean {
    return key.state === 'retired' && (key.retiredAt ?? 0) + this.graceMs <= now;
  }

  private async sync(rotateRequested: boolean, minActiveAgeMs = 0): Promise<boolean> {
    const now = this.clock.now();
    const records = new Map((await this.repo.list()).map((r) => [r.kid, { ...r }]));
    let rotate = rotateRequested;
    if (rotate && minActiveAgeMs > 0) {
      const newest = Math.max(...[...records.values()].filter((r) => r.state === 'active').map((r) => r.activatedAt ?? 0));
      if (now - newest < minActiveAgeMs) rotate = false;
    }
    // Writes go out in this order: new keys first (so they are published before anything refers to them),
    // then promotions, then retirements. A crash in between leaves at worst two actives, repaired below.
    const created: SigningKeyRecord[] = [];
    const changed = new Map<string, SigningKeyRecord>();
    const removed: string[] = [];

    for (const r of records.values()) {
      if (this.pastGrace(r, now)) {
        records.delete(r.kid);
        removed.push(r.kid);
      }
    }
    const inState = (s: KeyState): SigningKeyRecord[] => [...records.values()].filter((r) => r.state === s);
    const createKey = async (state: KeyState): Promise<SigningKeyRecord> => {
      const g = await generate(this.sealer, now, state);
      this.privateKeys.set(g.record.kid, g.privateKey);
      this.verifyKeys.set(g.record.kid, g.verifyKey);
      records.set(g.record.kid, g.record);
      created.push(g.record);
      return g.record;
    };
    const promoteOldestNext = (): boolean => {
      const next = inState('next').sort((a, b) => a.createdAt - b.createdAt || (a.kid < b.kid ? -1 : 1))[0];
      if (!next) return false;
      next.state = 'active';
      next.activatedAt = now;
      changed.set(next.kid, next);
      return true;
    };
    const retire = (r: SigningKeyRecord): void => {
      r.state = 'retired';
      r.retiredAt = now;
      changed.set(r.kid, r);
    };

    if (rotate) {
      const previous = inState('active');
      if (!promoteOldestNext()) {
        // No next key (a repository edited by hand): the new active key signs without prior publication.
        await createKey('active');
      }
      previous.forEach(retire);
      await createKey('next');
    } else {
      if (inState('active').length === 0 && !promoteOldestNext()) await createKey('active');
      if (inState('next').length === 0) await createKey('next');
    }
    // Two actives happen when replicas start or rotate concurrently: the most recently activated one wins,
    // the others keep verifying as retired keys.
    // Ties break on kid so every replica repairs to the same winner.
    const actives = inState('active').sort(
      (a, b) => (b.activatedAt ?? 0) - (a.activatedAt ?? 0) || (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0),
    );
    actives.slice(1).forEach(retire);

    for (const r of created) await this.repo.upsert(r);
    const updates = [...changed.values()].filter((r) => !created.includes(r));
    for (const r of updates.filter((u) => u.state === 'active')) await this.repo.upsert(r);
    for (const r of updates.filter((u) => u.state !== 'active')) await this.repo.upsert(r);
    for (const kid of removed) await this.repo.remove(kid);

    await this.adopt([...records.values()]);
    return rotate;
  }

  /** Builds the in-memory view; only swaps it in once every key loaded, so a failure leaves the old view. */
  private async adopt(records: SigningKeyRecord[]): Promise<void> {
    const keys = new Map<string, LoadedKey>();
    let current: ActiveKey | undefined;
    for (const r of records) {
      checkRecord(r);
      let verifyKey = this.verifyKeys.get(r.kid);
      if (!verifyKey) {
        verifyKey = await importVerifyKey(r.publicJwk);
        this.verifyKeys.set(r.kid, verifyKey);
      }
      const loaded: LoadedKey = Object.freeze({
        kid: r.kid,
        x5t: r.publicJwk.x5t,
        state: r.state,
        alg: r.alg,
        publicJwk: r.publicJwk,
        verifyKey,
        createdAt: r.createdAt,
        activatedAt: r.activatedAt,
        retiredAt: r.retiredAt,
      });
      keys.set(r.kid, loaded);
      if (r.state === 'active') current = Object.freeze({ ...loaded, privateKey: this.unseal(r) });
      // Unsealing next keys now surfaces a wrong keyring at start-up rather than at the next rotation.
      else if (r.state === 'next') this.unseal(r);
    }
    if (!current) throw new Error('signing keys: no active key after sync');
    for (const kid of [...this.privateKeys.keys()]) if (!keys.has(kid)) this.privateKeys.delete(kid);
    for (const kid of [...this.verifyKeys.keys()]) if (!keys.has(kid)) this.verifyKeys.delete(kid);
    this.keys = keys;
    this.current = current;
  }

  private unseal(r: SigningKeyRecord): KeyObject {
    const cached = this.privateKeys.get(r.kid);
    if (cached) return cached;
    const key = createPrivateKey(this.sealer.open(r.sealedPrivateKey, sealAad(r.kid)));
    // The aad ties the blob to its kid; this also catches a row whose public half was edited.
    const n = createPublicKey(key).export({ format: 'jwk' }).n;
    if (n !== r.publicJwk.n) throw new Error(`signing key ${r.kid}: private key does not match its public key`);
    this.privateKeys.set(r.kid, key);
    return key;
  }
}

function checkRecord(r: SigningKeyRecord): void {
  const der = r.publicJwk.x5c[0];
  if (r.alg !== 'RS256' || r.publicJwk.kid !== r.kid || r.publicJwk.x5t !== r.kid || !der) {
    throw new Error(`signing key ${r.kid}: inconsistent record`);
  }
  if (thumbprint(Buffer.from(der, 'base64')) !== r.kid) {
    throw new Error(`signing key ${r.kid}: kid is not the certificate thumbprint`);
  }
}
