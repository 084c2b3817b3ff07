import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ShiftableClock } from '../../src/core/clock.js';
import type { Principal } from '../../src/directory/index.js';
import { Keyring, memoryDataKeyStore, rawMasterKeyProvider } from '../../src/keyring/index.js';
import { createPortalApp } from '../../src/portal/app.js';
import { Store } from '../../src/store/index.js';

const APP: Principal = { objectId: '11111111-2222-3333-4444-555555555555', appId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', tenantId: 't', kind: 'Application', displayName: 'app', resourceId: null, createdAt: 0 };

const opened: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});

/** The portal app alone (fastify inject, fake directory and token service, in-memory store): session rules without a server. */
async function portal() {
  const clock = new ShiftableClock();
  const store = await Store.open({ memory: true });
  const sealer = await Keyring.open(rawMasterKeyProvider(randomBytes(32)), memoryDataKeyStore());
  let exists = true;
  let listener: ((oid: string) => void) | undefined;
  const { app, sessions, close } = createPortalApp({
    log: pino({ level: 'silent' }),
    clock,
    store,
    sealer,
    tenantId: 't',
    defaultSubscriptionId: 's',
    directory: {
      verifyClientSecret: async (id, secret) => (id === APP.appId && secret === 'right' && exists ? APP : undefined),
      get: async (oid) => (oid === APP.objectId && exists ? APP : undefined),
    },
    signin: {
      appToken: async () => ({ accessToken: 'token', expiresOn: Math.floor(clock.now() / 1000) + 3600 }),
      recordFailure: () => undefined,
    },
    audiences: { arm: 'https://management.test/', vault: 'https://vault.azure.net', storage: 'https://storage.azure.com' },
    target: { bindHost: '127.0.0.1', port: 1, publicHost: 'localhost', dnsSuffix: 'keyless.localhost', caPem: '' },
    onPrincipalChange: (fn) => (listener = fn),
  });
  opened.push(store, { close });
  const signIn = async () => {
    const r = await app.inject({ method: 'POST', url: '/portal/sign-in', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `client_id=${APP.appId}&client_secret=right` });
    return String(r.headers['set-cookie']).split(';')[0]!;
  };
  return { app, sessions, clock, signIn, remove: () => ((exists = false), listener?.(APP.objectId)), touch: () => listener?.(APP.objectId) };
}

describe('portal app', () => {
  it('signs out every session of an application that is deleted', async () => {
    const p = await portal();
    const cookie = await p.signIn();
    expect((await p.app.inject({ url: '/portal/api/session', headers: { cookie } })).statusCode).toBe(200);
    p.touch(); // a change that leaves the principal in place keeps the session
    await new Promise((r) => setTimeout(r, 10));
    expect((await p.app.inject({ url: '/portal/api/session', headers: { cookie } })).statusCode).toBe(200);
    p.remove();
    await new Promise((r) => setTimeout(r, 10));
    const after = await p.app.inject({ url: '/portal/api/session', headers: { cookie } });
    expect(after.statusCode).toBe(401);
    expect(await p.sessions.count()).toBe(0);
    expect(p.sessions.cached).toBe(0);
  });

  it('ignores malformed and forged cookies, and a session id never appears in a response body', async () => {
    const p = await portal();
    const cookie = await p.signIn();
    const id = cookie.split('=')[1]!;
    for (const bad of ['', 'x', id.slice(0, -1) + (id.endsWith('A') ? 'B' : 'A'), 'z'.repeat(43), `${id}x`]) {
      const r = await p.app.inject({ url: '/portal/api/session', headers: { cookie: `${cookie.split('=')[0]}=${bad}` } });
      expect(r.statusCode).toBe(401);
    }
    const s = await p.app.inject({ url: '/portal/api/session', headers: { cookie } });
    expect(s.body).not.toContain(id);
  });

  it('keeps answering SessionExpired (not SessionRequired) to every request of a page whose session ran out', async () => {
    const p = await portal();
    const cookie = await p.signIn();
    p.clock.shift(31 * 60_000);
    const codes = await Promise.all([1, 2, 3].map(async () => JSON.parse((await p.app.inject({ url: '/portal/api/session', headers: { cookie } })).body).error.code));
    expect(codes).toEqual(['SessionExpired', 'SessionExpired', 'SessionExpired']);
    const page = await p.app.inject({ url: '/portal/', headers: { cookie } });
    expect(page.headers['location']).toBe('/portal/sign-in?expired=1');
  });

  it('refuses a sign-in form posted from another site', async () => {
    const p = await portal();
    for (const headers of [{ origin: 'https://evil.example' }, { origin: 'null' }, { 'sec-fetch-site': 'cross-site' }]) {
      const r = await p.app.inject({
        method: 'POST',
        url: '/portal/sign-in',
        headers: { 'content-type': 'application/x-www-form-urlencoded', host: 'localhost:8443', ...headers },
        payload: `client_id=${APP.appId}&client_secret=right`,
      });
      expect(r.statusCode).toBe(403);
      expect(r.headers['set-cookie']).toBeUndefined();
    }
  });
});
