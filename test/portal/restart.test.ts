import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestKeyless } from '../support/keyless.js';
import { cookieName, PortalClient } from './support.js';

/** Sessions live in the store: restarting a server on the same data directory (SQLite) signs nobody out. */
describe('portal sessions across a restart', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-portal-restart-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('a signed-in browser stays signed in, with the same CSRF token', async () => {
    const k1 = await startTestKeyless({ dataDir });
    const before = new PortalClient(k1);
    expect((await before.signIn(k1.admin.clientId, k1.admin.clientSecret!)).status).toBe(303);
    expect(before.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const value = before.cookie!.split('=')[1]!;
    await k1.stop();

    const k2 = await startTestKeyless({ dataDir });
    try {
      // Same browser, same cookie; a restarted server on an ephemeral port has another cookie name, not another session.
      const after = new PortalClient(k2);
      after.cookie = `${cookieName(k2)}=${value}`;
      after.csrf = before.csrf;
      const s = await after.get('/portal/api/session');
      expect(s.status, s.text).toBe(200);
      expect(s.json.principal.objectId).toBe(k2.admin.objectId);
      expect(s.json.csrfToken).toBe(before.csrf);
      // The new process mints its own ARM token for the session, and mutations pass the CSRF check.
      const put = await after.send('PUT', `/portal/api/arm/subscriptions/${k2.subscriptionId}/resourceGroups/after-restart?api-version=2022-09-01`, { location: 'westeurope' });
      expect(put.status, put.text).toBe(201);
      expect((await after.send('POST', '/portal/sign-out')).status).toBe(204);
      expect((await after.get('/portal/api/session')).status).toBe(401);
    } finally {
      await k2.stop();
    }
  });
});
