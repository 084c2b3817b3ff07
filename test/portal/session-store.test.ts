import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/core/clock.js';
import { Keyring, memoryDataKeyStore, rawMasterKeyProvider } from '../../src/keyring/index.js';
import { SessionStore, type Lookup, type PortalSession, type SessionOptions } from '../../src/portal/session.js';
import { Store } from '../../src/store/index.js';

const PRINCIPAL = { objectId: '11111111-2222-3333-4444-555555555555', appId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', displayName: 'app', tenantId: 't' };
const MIN = 60_000;
const IDLE = 30 * MIN;

/** Time that moves only when told to. */
class ManualClock implements Clock {
  t = Date.UTC(2025, 0, 1);
  now(): number {
    return this.t;
  }
  set(t: number): void {
    this.t = t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

const opened: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});

/** One store (in-memory SQLite) and a session store over it; `replica()` adds another over the same store. */
async function setup(opts: Partial<SessionOptions> = {}) {
  const clock = new ManualClock();
  const store = await Store.open({ memory: true });
  opened.push(store);
  const keyring = await Keyring.open(rawMasterKeyProvider(randomBytes(32)), memoryDataKeyStore());
  const replica = () => {
    const s = new SessionStore(store, keyring, clock, { idleMs: IDLE, maxSessions: 100, ...opts });
    opened.push(s);
    return s;
  };
  const a = replica();
  const create = () => a.create(PRINCIPAL, { audience: 'arm', token: 'arm-token', exp: Math.floor(clock.now() / 1000) + 3600 });
  const row = (id: string) => store.db.selectFrom('portal_sessions').selectAll().where('id_hash', '=', sha256(id)).executeTakeFirst();
  return { clock, store, keyring, a, replica, create, row };
}

const sha256 = (id: string) => createHash('sha256').update(id).digest('base64url');
const sessionOf = (l: Lookup): PortalSession => {
  if (!('session' in l)) throw new Error(`expected a session, got ${l.reason}`);
  return l.session;
};

describe('portal session store', () => {
  it('keeps neither the session id nor the CSRF token in plaintext in the database', async () => {
    const { create, row, keyring } = await setup();
    const { id, session } = await create();
    const r = (await row(id))!;
    expect(r).toBeDefined();
    const dump = JSON.stringify(r);
    expect(dump).not.toContain(id);
    expect(dump).not.toContain(session.csrf);
    expect(dump).not.toContain('arm-token');
    // The CSRF token opens only as this session's: sealed with AAD naming the row.
    expect(keyring.open(r.sealed_csrf, `portal-session/csrf:${r.id_hash}`).toString()).toBe(session.csrf);
    expect(() => keyring.open(r.sealed_csrf, `portal-session/csrf:${sha256('another')}`)).toThrow();
  });

  it('writes last-seen at most once per tenth of the idle timeout, and idles out from the stored value', async () => {
    const { clock, a, create, row } = await setup();
    const { id } = await create();
    const t0 = (await row(id))!.last_seen_at;
    for (const m of [1, 2, 2.9]) {
      clock.set(t0 + m * MIN);
      sessionOf(await a.lookup(id));
      expect((await row(id))!.last_seen_at).toBe(t0);
    }
    clock.set(t0 + 3 * MIN);
    sessionOf(await a.lookup(id));
    expect((await row(id))!.last_seen_at).toBe(t0 + 3 * MIN);
    // A request 2 min later is not written; the timeout counts from the stored 3 min (at most a tenth early).
    clock.set(t0 + 5 * MIN);
    sessionOf(await a.lookup(id));
    expect((await row(id))!.last_seen_at).toBe(t0 + 3 * MIN);
    clock.set(t0 + 33 * MIN - 1);
    sessionOf(await a.lookup(id));
    expect((await row(id))!.last_seen_at).toBe(t0 + 33 * MIN - 1);
    clock.set(t0 + 63 * MIN);
    expect(await a.lookup(id)).toEqual({ reason: 'expired' });
  });

  it('re-reads a cached session that looks idle: another replica may have seen it since', async () => {
    const { clock, a, replica, create } = await setup();
    const b = replica();
    const { id, session } = await create();
    const t0 = clock.now();
    expect(sessionOf(await b.lookup(id)).csrf).toBe(session.csrf);
    // The user keeps working through replica a only.
    for (let m = 5; m <= 25; m += 5) {
      clock.set(t0 + m * MIN);
      sessionOf(await a.lookup(id));
    }
    clock.set(t0 + 31 * MIN);
    expect(sessionOf(await b.lookup(id)).principal.objectId).toBe(PRINCIPAL.objectId);
  });

  it('answers "expired" for an ended session until the sweep, then "unknown"; sign-out is "unknown" at once', async () => {
    const { clock, a, create } = await setup();
    const { id } = await create();
    const other = await create();
    clock.advance(IDLE);
    expect(await a.lookup(id)).toEqual({ reason: 'expired' });
    expect(await a.lookup(id)).toEqual({ reason: 'expired' });
    expect(await a.sweep()).toBe(0);
    expect(await a.lookup(id)).toEqual({ reason: 'expired' });
    clock.advance(61 * MIN);
    expect(await a.sweep()).toBe(2);
    expect(await a.lookup(id)).toEqual({ reason: 'unknown' });
    expect(await a.count()).toBe(0);

    const third = await create();
    await a.destroy(third.id);
    expect(await a.lookup(third.id)).toEqual({ reason: 'unknown' });
    expect(await a.lookup(other.id)).toEqual({ reason: 'unknown' });
  });

  it('a sign-out or a principal removal on one replica drops the copy the other holds', async () => {
    const { a, replica, create } = await setup();
    const b = replica();
    const one = await create();
    const two = await create();
    sessionOf(await b.lookup(one.id));
    sessionOf(await b.lookup(two.id));
    expect(b.cached).toBe(2);
    await a.destroy(one.id);
    expect(b.cached).toBe(1);
    expect(await b.lookup(one.id)).toEqual({ reason: 'unknown' });
    await a.destroyFor(PRINCIPAL.objectId);
    expect(b.cached).toBe(0);
    expect(await b.lookup(two.id)).toEqual({ reason: 'unknown' });
  });

  it('a new process over the same store knows the session and its CSRF token, and mints its own tokens', async () => {
    const { replica, create } = await setup();
    const { id, session } = await create();
    const restarted = replica();
    const s = sessionOf(await restarted.lookup(id));
    expect(s.csrf).toBe(session.csrf);
    expect(s.expiresAt).toBe(session.expiresAt);
    let minted = 0;
    expect(await restarted.token(s, 'arm', async () => ({ token: `fresh-${++minted}`, exp: Math.floor(s.expiresAt / 1000) }))).toBe('fresh-1');
    expect(await restarted.token(s, 'arm', async () => ({ token: `fresh-${++minted}`, exp: 0 }))).toBe('fresh-1');
  });

  it("opens a CSRF token sealed under a data key another replica rotated in before this one heard of it", async () => {
    const { store, clock } = await setup();
    const master = rawMasterKeyProvider(randomBytes(32));
    const keys = memoryDataKeyStore();
    const [ka, kb] = [await Keyring.open(master, keys), await Keyring.open(master, keys)];
    await ka.rotateDataKey();
    expect(kb.dataKeyIds).not.toContain(ka.currentKeyId);
    const a = new SessionStore(store, ka, clock, { idleMs: IDLE, maxSessions: 100 });
    const b = new SessionStore(store, kb, clock, { idleMs: IDLE, maxSessions: 100 });
    opened.push(a, b);
    const { id, session } = await a.create(PRINCIPAL, { audience: 'arm', token: 't', exp: Math.floor(clock.now() / 1000) + 3600 });
    expect(sessionOf(await b.lookup(id)).csrf).toBe(session.csrf);
  });

  it('keeps at most maxSessions, dropping the oldest', async () => {
    const { clock, a, create } = await setup({ maxSessions: 2 });
    const first = await create();
    clock.advance(1);
    const second = await create();
    clock.advance(1);
    const third = await create();
    expect(await a.count()).toBe(2);
    expect(await a.lookup(first.id)).toEqual({ reason: 'unknown' });
    sessionOf(await a.lookup(second.id));
    sessionOf(await a.lookup(third.id));
  });
});
