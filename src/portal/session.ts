import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Store } from '../store/index.js';
import * as repo from '../store/portal-sessions.js';

/** The principal a session acts as: an application whose client secret was verified at sign-in. */
export interface SessionPrincipal {
  objectId: string;
  appId: string;
  displayName: string;
  tenantId: string;
}

/** A minted bearer token for one audience (ARM, Key Vault, Storage), held server-side only. */
interface HeldToken {
  token: string;
  /** epoch seconds */
  exp: number;
}

export interface PortalSession {
  principal: SessionPrincipal;
  /** Sent to the UI in /portal/api/session and required back in X-CSRF-Token on every mutation. */
  csrf: string;
  createdAt: number;
  /** epoch ms: the ARM token's expiry; the credential was proven for that long and no longer. */
  expiresAt: number;
  /** The last use as the store has it, which may trail the true last use by up to a tenth of the idle timeout. */
  lastSeenAt: number;
  /** This replica's tokens for the session; never stored, so each replica mints its own on first use. */
  tokens: Map<string, HeldToken>;
}

export type Lookup = { session: PortalSession } | { reason: 'missing' | 'unknown' | 'expired' };

/** Seals and opens the CSRF token at rest (the keyring). */
export interface Sealer {
  seal(plaintext: Buffer | string, aad: string): string;
  open(sealed: string, aad: string): Buffer;
  /** Picks up data keys another replica created; a row sealed by one just rotated in needs it. */
  reload?(): Promise<void>;
}

export interface SessionOptions {
  /** Signed out after this long without a request (ms). */
  idleMs: number;
  /** At most this many sessions in the store; the oldest go first. */
  maxSessions: number;
  /** How often sessions that ended more than an hour ago are deleted (ms, default 5 min). */
  sweepIntervalMs?: number;
  /** At most this many sessions held in this replica's memory (default 10,000). */
  maxCached?: number;
}

/**
 * Server-side sessions, kept in the store so every replica knows every session and a restart signs nobody out.
 * The browser holds only a random 256-bit id; rows are keyed by its SHA-256 and the CSRF token is sealed, so
 * neither the database nor a heap dump gives a usable cookie or CSRF token back.
 *
 * Each replica caches the sessions it serves. Sign-out and a principal's removal are published on the store's
 * change feed, so every replica drops its copy as soon as the notification arrives; an entry that looks idle
 * is re-read before it is declared expired, as another replica may have seen the session since.
 */
export class SessionStore {
  private readonly cache = new Map<string, PortalSession>();
  /** Bumped by every invalidation: a load that raced one must not put back what was just dropped. */
  private epoch = 0;
  private readonly sweeper: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  /**
   * Writing last_seen_at on every request would turn each portal click (a page makes several API calls) into a
   * database write, and make one row per user the hottest row of a replicated store. The idle timeout only
   * needs the last use to a fraction of itself, so the store is told at most once per tenth of it: a session
   * idles out between 0.9× and 1× the timeout after its last request, the same on every replica.
   */
  private readonly touchAfterMs: number;

  constructor(
    private readonly store: Store,
    private readonly sealer: Sealer,
    private readonly clock: Clock,
    private readonly opts: SessionOptions,
  ) {
    this.touchAfterMs = Math.floor(opts.idleMs / 10);
    this.unsubscribe = store.onChange((c) => {
      if (c.topic === 'portalSession') this.invalidate(c.key);
      // A gap in the change feed: anything cached may have been signed out meanwhile.
      else if (c.topic === 'all') this.dropAll();
    });
    this.sweeper = setInterval(() => void this.sweep().catch(() => undefined), opts.sweepIntervalMs ?? 5 * 60_000);
    this.sweeper.unref();
  }

  async create(principal: SessionPrincipal, arm: { audience: string; token: string; exp: number }): Promise<{ id: string; session: PortalSession }> {
    await this.enforceCap();
    const id = randomBytes(32).toString('base64url');
    const key = hash(id);
    const now = this.clock.now();
    const session: PortalSession = {
      principal,
      csrf: randomBytes(32).toString('base64url'),
      createdAt: now,
      expiresAt: arm.exp * 1000,
      lastSeenAt: now,
      tokens: new Map([[arm.audience, { token: arm.token, exp: arm.exp }]]),
    };
    await repo.insert(this.store.db, {
      id_hash: key,
      object_id: principal.objectId,
      app_id: principal.appId,
      display_name: principal.displayName,
      tenant_id: principal.tenantId,
      sealed_csrf: this.sealer.seal(session.csrf, csrfAad(key)),
      created_at: session.createdAt,
      expires_at: session.expiresAt,
      last_seen_at: session.lastSeenAt,
    });
    this.remember(key, session);
    return { id, session };
  }

  /** Finds a live session and marks it used; an ended one stays in the store for a while, so it reads as expired. */
  async lookup(id: string | undefined): Promise<Lookup> {
    if (!id) return { reason: 'missing' };
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return { reason: 'unknown' };
    const key = hash(id);
    const now = this.clock.now();
    let s = this.cache.get(key);
    if (!s || this.isExpired(s, now)) {
      const epoch = this.epoch;
      const loaded = await this.load(key);
      if (!loaded) {
        this.cache.delete(key);
        return { reason: 'unknown' };
      }
      if (this.isExpired(loaded, now)) {
        this.cache.delete(key);
        return { reason: 'expired' };
      }
      // Tokens this replica already minted for the session stay good: they never outlive it.
      if (s) loaded.tokens = s.tokens;
      s = loaded;
      if (epoch === this.epoch) this.remember(key, s);
    }
    if (now - s.lastSeenAt >= this.touchAfterMs) {
      if (!(await repo.touch(this.store.db, key, now))) {
        // Signed out on another replica, and its notification has not arrived yet.
        this.cache.delete(key);
        return { reason: 'unknown' };
      }
      s.lastSeenAt = Math.max(s.lastSeenAt, now);
    }
    return { session: s };
  }

  async destroy(id: string | undefined): Promise<void> {
    if (!id) return;
    const key = hash(id);
    this.invalidate(key);
    await this.store.transaction(async (tx, changed) => {
      if (await repo.remove(tx, key)) changed({ topic: 'portalSession', key });
    });
  }

  /** Signs a principal out everywhere (its credential or the principal itself went away). */
  async destroyFor(objectId: string): Promise<void> {
    const key = `${PRINCIPAL_PREFIX}${objectId}`;
    this.invalidate(key);
    await this.store.transaction(async (tx, changed) => {
      if ((await repo.removeForPrincipal(tx, objectId)).length > 0) changed({ topic: 'portalSession', key });
    });
  }

  /** Sessions in the store, ended ones not yet swept included. */
  count(): Promise<number> {
    return repo.count(this.store.db);
  }

  /** Sessions this replica holds in memory. */
  get cached(): number {
    return this.cache.size;
  }

  /** The session's token for `audience`, minting one on first use; a token never outlives its session. */
  async token(s: PortalSession, audience: string, mint: () => Promise<{ token: string; exp: number }>): Promise<string> {
    const held = s.tokens.get(audience);
    if (held && held.exp * 1000 > this.clock.now() + 30_000) return held.token;
    const t = await mint();
    s.tokens.set(audience, t);
    return t.token;
  }

  /**
   * Deletes sessions that ended more than TOMBSTONE_MS ago (until then they answer "expired", so a page's
   * requests in flight hear why). Every replica sweeps; the deletes are idempotent.
   */
  async sweep(): Promise<number> {
    const now = this.clock.now();
    for (const [k, s] of this.cache) if (this.isExpired(s, now)) this.cache.delete(k);
    return repo.removeEnded(this.store.db, { expiresAt: now - TOMBSTONE_MS, lastSeenAt: now - this.opts.idleMs - TOMBSTONE_MS });
  }

  close(): void {
    clearInterval(this.sweeper);
    this.unsubscribe();
    this.dropAll();
  }

  private async load(key: string): Promise<PortalSession | undefined> {
    const row = await repo.get(this.store.db, key);
    if (!row) return undefined;
    return {
      principal: { objectId: row.object_id, appId: row.app_id, displayName: row.display_name, tenantId: row.tenant_id },
      csrf: (await this.openCsrf(row.sealed_csrf, key)).toString('utf8'),
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      lastSeenAt: row.last_seen_at,
      tokens: new Map(),
    };
  }

  private async openCsrf(sealed: string, key: string): Promise<Buffer> {
    try {
      return this.sealer.open(sealed, csrfAad(key));
    } catch (e) {
      // Sealed by a replica whose rotated data key this one has not loaded yet (its notification may be late).
      if (!this.sealer.reload) throw e;
      await this.sealer.reload();
      return this.sealer.open(sealed, csrfAad(key));
    }
  }

  private remember(key: string, s: PortalSession): void {
    const max = this.opts.maxCached ?? 10_000;
    while (this.cache.size >= max) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    this.cache.set(key, s);
  }

  /** `key` names one session (its hash) or, with PRINCIPAL_PREFIX, every session of a principal. */
  private invalidate(key: string): void {
    this.epoch++;
    if (!key.startsWith(PRINCIPAL_PREFIX)) {
      this.cache.delete(key);
      return;
    }
    const objectId = key.slice(PRINCIPAL_PREFIX.length);
    for (const [k, s] of this.cache) if (s.principal.objectId === objectId) this.cache.delete(k);
  }

  private dropAll(): void {
    this.epoch++;
    this.cache.clear();
  }

  /** The oldest sessions make room; other replicas hear of it like a sign-out. */
  private async enforceCap(): Promise<void> {
    const n = await repo.count(this.store.db);
    if (n < this.opts.maxSessions) return;
    const victims = await repo.oldest(this.store.db, n - this.opts.maxSessions + 1);
    for (const key of victims) this.invalidate(key);
    await this.store.transaction(async (tx, changed) => {
      for (const key of victims) if (await repo.remove(tx, key)) changed({ topic: 'portalSession', key });
    });
  }

  private isExpired(s: PortalSession, now: number): boolean {
    return now >= s.expiresAt || now - s.lastSeenAt >= this.opts.idleMs;
  }
}

/** Constant-time comparison of the CSRF token the UI sent with the session's. */
export function csrfMatches(s: PortalSession, sent: string | undefined): boolean {
  if (!sent) return false;
  const a = Buffer.from(s.csrf);
  const b = Buffer.from(sent);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** How long an ended session is remembered as expired (then it is just unknown). */
const TOMBSTONE_MS = 60 * 60_000;

/** Change keys naming a principal rather than one session (a session key is base64url, never containing ':'). */
const PRINCIPAL_PREFIX = 'principal:';

/** Binds a sealed CSRF token to its session's row: copied to another row it no longer opens. */
const csrfAad = (key: string): string => `portal-session/csrf:${key}`;

const hash = (id: string): string => createHash('sha256').update(id).digest('base64url');
