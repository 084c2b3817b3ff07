import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../support/postgres.js';
import { useReplicas } from '../../support/replicas.js';
import { cookieName, PortalClient } from '../../portal/support.js';
import { Keyring, memoryDataKeyStore, rawMasterKeyProvider } from '../../../src/keyring/index.js';
import { SessionStore } from '../../../src/portal/session.js';
import { systemClock } from '../../../src/core/clock.js';
import { Store } from '../../../src/store/index.js';
import type { StartedKeyless } from '../../../src/index.js';

/**
 * Issue 8, the portal: behind a load balancer without sticky routing, a session made on one replica is good on
 * every other, and a sign-out on one is honoured by the others within a second.
 */
const db = await createTestDatabase();
describe.runIf(db)('scale-out: portal sessions on PostgreSQL', () => {
  const replicas = useReplicas(db!, 2);

  /** The same browser talking to replica `k`: its cookie under that replica's (port-derived) name. */
  const through = (k: StartedKeyless, from: PortalClient): PortalClient => {
    const c = new PortalClient(k);
    c.cookie = `${cookieName(k)}=${from.cookie!.split('=')[1]}`;
    c.csrf = from.csrf!;
    return c;
  };

  it('a session made on one replica works on the other, and a sign-out on one is honoured by the other within 1 s', async () => {
    const [a, b] = [replicas[0]!, replicas[1]!];
    const onA = new PortalClient(a);
    expect((await onA.signIn(a.admin.clientId, a.admin.clientSecret!)).status).toBe(303);
    const onB = through(b, onA);
    const s = await onB.get('/portal/api/session');
    expect(s.status, s.text).toBe(200);
    expect(s.json.principal.objectId).toBe(a.admin.objectId);
    expect(s.json.csrfToken).toBe(onA.csrf);
    const put = await onB.send('PUT', `/portal/api/arm/subscriptions/${b.subscriptionId}/resourceGroups/portal-replica?api-version=2022-09-01`, { location: 'westeurope' });
    expect(put.status, put.text).toBe(201);

    // b now holds the session in memory; the sign-out goes to a.
    expect((await onA.send('POST', '/portal/sign-out')).status).toBe(204);
    const started = Date.now();
    let status = 200;
    while (Date.now() - started < 1000 && status === 200) {
      status = (await onB.get('/portal/api/session')).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 25));
    }
    expect(status).toBe(401);
    expect((await onB.get('/portal/api/session')).json.error.code).toBe('SessionRequired');
  });

  it("a principal's removal on one replica drops the sessions another holds in memory, within 1 s", async () => {
    const open = async () => {
      const store = await Store.open({ databaseUrl: db!.url });
      return { store, sessions: new SessionStore(store, keyring, systemClock, { idleMs: 30 * 60_000, maxSessions: 100 }) };
    };
    const keyring = await Keyring.open(rawMasterKeyProvider(randomBytes(32)), memoryDataKeyStore());
    const [x, y] = [await open(), await open()];
    try {
      const principal = { objectId: 'portal-replica-principal', appId: 'portal-replica-app', displayName: 'app', tenantId: 't' };
      const { id } = await x.sessions.create(principal, { audience: 'arm', token: 'arm-token', exp: Math.floor(Date.now() / 1000) + 3600 });
      expect('session' in (await y.sessions.lookup(id))).toBe(true);
      expect(y.sessions.cached).toBe(1);
      await x.sessions.destroyFor(principal.objectId);
      const started = Date.now();
      while (y.sessions.cached > 0 && Date.now() - started < 1000) await new Promise((r) => setTimeout(r, 25));
      expect(y.sessions.cached).toBe(0);
      expect(await y.sessions.lookup(id)).toEqual({ reason: 'unknown' });
    } finally {
      for (const r of [x, y]) {
        r.sessions.close();
        await r.store.close();
      }
    }
  });
});
