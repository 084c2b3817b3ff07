import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { AccessCheck, AccessControl, AuthzMode } from '../../../src/core/access.js';
import { ShiftableClock } from '../../../src/core/clock.js';
import { createKeyVaultApp } from '../../../src/keyvault/app.js';
import { SecretService } from '../../../src/keyvault/secrets.js';
import { VaultRegistry } from '../../../src/keyvault/vault-registry.js';
import { Store } from '../../../src/store/index.js';
import type { DataAccessEvent } from '../../../src/server/plugin.js';

const TENANT = '11111111-1111-4111-8111-111111111111';
const SUB = '22222222-2222-4222-8222-222222222222';
const ALICE = 'aaaaaaaa-0000-4000-8000-000000000001';
const BOB = 'bbbbbbbb-0000-4000-8000-000000000002';

/**
 * The data-plane pipeline with the server's collaborators faked: which authorization model runs, what it
 * is asked, that every decision is recorded, and how the server-wide enforcement mode applies.
 */
describe('Key Vault pipeline', () => {
  let store: Store;
  const events: DataAccessEvent[] = [];
  const checks: AccessCheck[] = [];
  let mode: AuthzMode = 'enforce';
  const access: AccessControl = {
    get mode() {
      return mode;
    },
    check(req) {
      checks.push(req);
      const granted = req.principalId === ALICE;
      return { granted, allowed: granted || mode !== 'enforce', mode, conditionInvolved: false, summary: granted ? 'allowed' : 'denied: fake', explanation: { fake: true } };
    },
    visibleSubscriptions: () => 'all',
  };
  // A transparent "sealer" so the test can see what is stored.
  const sealer = { seal: (p: Buffer | string, aad: string) => `${aad}|${Buffer.from(p).toString('base64')}`, open: (s: string, aad: string) => {
    const [a, v] = s.split('|');
    if (a !== aad) throw new Error('aad mismatch');
    return Buffer.from(v!, 'base64');
  } };
  let app: ReturnType<typeof createKeyVaultApp>;

  async function putVault(name: string, rbac: boolean, policies: unknown[] = []) {
    const id = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/${name}`;
    const body = { id, name, type: 'Microsoft.KeyVault/vaults', location: 'westeurope', properties: { tenantId: TENANT, enableRbacAuthorization: rbac, accessPolicies: policies } };
    await store.transaction(async (tx, changed) => {
      await tx.deleteFrom('resources').where('key', '=', id.toLowerCase()).execute();
      await tx
        .insertInto('resources')
        .values({ key: id.toLowerCase(), id, type_key: 'microsoft.keyvault/vaults', subscription_id: SUB, group_key: 'rg', parent_key: null, name, body: JSON.stringify(body), internal: '{}', etag: '"1"', created_at: 0, updated_at: 0 })
        .execute();
      changed({ topic: 'resource', key: id.toLowerCase() });
    });
  }

  const call = (vault: string, who: string, method: string, path: string, payload?: unknown) =>
    app.inject({
      method: method as 'GET',
      url: `${path}${path.includes('?') ? '&' : '?'}api-version=7.4`,
      headers: { host: `${vault}.vault.keyless.localhost:8443`, authorization: `Bearer ${who}`, 'content-type': 'application/json' },
      ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
    });

  beforeAll(async () => {
    store = await Store.open({ memory: true });
    const clock = new ShiftableClock();
    app = createKeyVaultApp({
      dnsSuffix: 'keyless.localhost',
      port: 8443,
      log: pino({ level: 'silent' }),
      access,
      vaults: new VaultRegistry(store),
      secrets: new SecretService(store, sealer, clock),
      auth: { authority: `https://localhost:8443/${TENANT}`, issuers: [], verifyBearer: async (t) => ({ objectId: t, appId: `app-of-${t.slice(0, 8)}`, tenantId: TENANT, via: 'bearer', clientName: t }) },
      recordDataAccess: (e) => events.push(e),
    });
    await app.ready();
    await putVault('rbac-kv', true);
    await putVault('policy-kv', false, [{ tenantId: TENANT, objectId: ALICE, permissions: { secrets: ['get', 'set'] } }]);
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('RBAC vaults ask the engine for the data action at the secret scope, and record the decision', async () => {
    events.length = 0;
    checks.length = 0;
    expect((await call('rbac-kv', ALICE, 'PUT', '/secrets/s1', { value: 'v' })).statusCode).toBe(200);
    expect(checks).toEqual([
      { principalId: ALICE, action: 'Microsoft.KeyVault/vaults/secrets/setSecret/action', isDataAction: true, scope: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/rbac-kv/secrets/s1` },
    ]);
    const denied = await call('rbac-kv', BOB, 'GET', '/secrets/s1/');
    expect(denied.statusCode).toBe(403);
    expect(denied.headers['x-keyless-authz']).toBe('denied: fake');
    expect(events.map((e) => [e.principalId, e.allowed, e.status])).toEqual([
      [ALICE, true, 200],
      [BOB, false, 403],
    ]);
    expect(events[1]).toMatchObject({ surface: 'keyvault', action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action', summary: 'denied: fake' });
  });

  it('access-policy vaults never consult the RBAC engine', async () => {
    events.length = 0;
    checks.length = 0;
    expect((await call('policy-kv', ALICE, 'PUT', '/secrets/s1', { value: 'v' })).statusCode).toBe(200);
    expect((await call('policy-kv', BOB, 'GET', '/secrets/s1/')).statusCode).toBe(403);
    expect(checks).toEqual([]);
    expect(events.map((e) => [e.principalId, e.allowed])).toEqual([
      [ALICE, true],
      [BOB, false],
    ]);
  });

  it('in audit mode a policy denial is recorded but let through', async () => {
    mode = 'audit';
    try {
      events.length = 0;
      const r = await call('policy-kv', BOB, 'GET', '/secrets/s1/');
      expect(r.statusCode).toBe(200);
      expect(events[0]).toMatchObject({ principalId: BOB, allowed: true });
      expect(events[0]!.summary).toMatch(/^denied: no access policy/);
    } finally {
      mode = 'enforce';
    }
  });

  it('a model switch is seen on the next request (the vault cache follows store changes)', async () => {
    await putVault('policy-kv', true);
    expect((await call('policy-kv', BOB, 'GET', '/secrets/s1/')).statusCode).toBe(403);
    expect(checks.at(-1)?.principalId).toBe(BOB);
    await putVault('policy-kv', false, [{ tenantId: TENANT, objectId: BOB, permissions: { secrets: ['get'] } }]);
    expect((await call('policy-kv', BOB, 'GET', '/secrets/s1/')).statusCode).toBe(200);
  });

  it('stores values only through the sealer, bound to vault, name and version', async () => {
    const rows = await store.db.selectFrom('kv_secret_versions').select(['sealed_value', 'version', 'name_key', 'vault_key']).execute();
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.sealed_value.startsWith(`keyvault/secret/${r.vault_key}/${r.name_key}/${r.version}|`)).toBe(true);
  });
});
