import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock.js';

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
  lastSeenAt: number;
  tokens: Map<string, HeldToken>;
}

export type Lookup = { session: PortalSession } | { reason: 'missing' | 'unknown' | 'expired' };

export interface SessionOptions {
  /** Signed out after this long without a request (ms). */
  idleMs: number;
  /** At most this many live sessions; the oldest go first. */
  maxSessions: number;
}

/**
 * Server-side sessions. The browser holds only a random 256-bit id; the store keys sessions by the id's
 * SHA-256, so neither a heap dump nor a timing side channel on the map gives a usable cookie back.
 * In-memory by design: a restart signs everyone out, and several Keyless processes need sticky routing.
 */
export class SessionStore {
  private readonly byHash = new Map<string, PortalSession>();
  /** Recently expired ids, so every request still in flight from that page hears "expired", not "unknown". */
  private readonly expired = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly opts: SessionOptions,
  ) {}

  create(principal: SessionPrincipal, arm: { audience: string; token: string; exp: number }): { id: string; session: PortalSession } {
    this.sweep();
    while (this.byHash.size >= this.opts.maxSessions) {
      const oldest = this.byHash.keys().next().value;
      if (oldest === undefined) break;
      this.byHash.delete(oldest);
    }
    const id = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const session: PortalSession = {
      principal,
      csrf: randomBytes(32).toString('base64url'),
      createdAt: now,
      expiresAt: arm.exp * 1000,
      lastSeenAt: now,
      tokens: new Map([[arm.audience, { token: arm.token, exp: arm.exp }]]),
    };
    this.byHash.set(hash(id), session);
    return { id, session };
  }

  /** Finds a live session and marks it used; an expired one is dropped and reported as such. */
  lookup(id: string | undefined): Lookup {
    if (!id) return { reason: 'missing' };
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return { reason: 'unknown' };
    const key = hash(id);
    const s = this.byHash.get(key);
    if (!s) return { reason: this.expired.has(key) ? 'expired' : 'unknown' };
    const now = this.clock.now();
    if (this.isExpired(s, now)) {
      this.expire(key, now);
      return { reason: 'expired' };
    }
    s.lastSeenAt = now;
    return { session: s };
  }

  destroy(id: string | undefined): void {
    if (!id) return;
    this.byHash.delete(hash(id));
    this.expired.delete(hash(id));
  }

  /** Drops every session of a principal (its credential or the principal itself went away). */
  destroyFor(objectId: string): void {
    for (const [k, s] of this.byHash) if (s.principal.objectId === objectId) this.byHash.delete(k);
  }

  get size(): number {
    return this.byHash.size;
  }

  /** The session's token for `audience`, minting one on first use; a token never outlives its session. */
  token(s: PortalSession, audience: string, mint: () => { token: string; exp: number }): string {
    const held = s.tokens.get(audience);
    if (held && held.exp * 1000 > this.clock.now() + 30_000) return held.token;
    const t = mint();
    s.tokens.set(audience, t);
    return t.token;
  }

  sweep(): void {
    const now = this.clock.now();
    for (const [k, s] of this.byHash) if (this.isExpired(s, now)) this.expire(k, now);
    for (const [k, at] of this.expired) if (now - at > TOMBSTONE_MS) this.expired.delete(k);
  }

  private isExpired(s: PortalSession, now: number): boolean {
    return now >= s.expiresAt || now - s.lastSeenAt >= this.opts.idleMs;
  }

  private expire(key: string, now: number): void {
    this.byHash.delete(key);
    if (this.expired.size >= this.opts.maxSessions) this.expired.delete(this.expired.keys().next().value!);
    this.expired.set(key, now);
  }
}

/** Constant-time comparison of the CSRF token the UI sent with the session's. */
export function csrfMatches(s: PortalSession, sent: string | undefined): boolean {
  if (!sent) return false;
  const a = Buffer.from(s.csrf);
  const b = Buffer.from(sent);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** How long an expired id is remembered as expired (then it is just unknown). */
const TOMBSTONE_MS = 60 * 60_000;

const hash = (id: string): string => createHash('sha256').update(id).digest('base64url');
