import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShiftableClock } from '../../../src/core/clock.js';
import { AuditTrail } from '../../../src/audit/index.js';
import { Store } from '../../../src/store/index.js';
import { createTestDatabase } from '../../support/postgres.js';

/** The audit trail on both backends: batching, filters, paging, aggregation, retention, scrubbing. */
type Backend = { name: string; open(): Promise<Store>; cleanup(): Promise<void> };
const sqliteDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-audit-store-'));
const backends: Backend[] = [{ name: 'sqlite', open: () => Store.open({ dataDir: sqliteDir }), cleanup: async () => fs.rmSync(sqliteDir, { recursive: true, force: true }) }];
const pgdb = await createTestDatabase();
if (pgdb) backends.push({ name: 'postgres', open: () => Store.open({ databaseUrl: pgdb.url }), cleanup: () => pgdb.drop() });

const SUB = '/subscriptions/11111111-1111-1111-1111-111111111111';
const RG = `${SUB}/resourceGroups/App-RG`;
const VM = `${RG}/providers/Microsoft.Compute/virtualMachines/vm1`;
const ACCOUNT = `${RG}/providers/Microsoft.Storage/storageAccounts/acct`;
const P1 = 'aaaaaaaa-0000-0000-0000-000000000001';
const P2 = 'aaaaaaaa-0000-0000-0000-000000000002';
const caller = (oid: string) => ({ objectId: oid, appId: `app-${oid}`, clientName: `app-${oid}` });

describe.each(backends)('audit trail on $name', (backend) => {
  let store: Store;
  let trail: AuditTrail;
  const clock = new ShiftableClock();
  const t0 = Date.now();

  beforeAll(async () => {
    store = await backend.open();
    // A long timer: these tests decide when the queue is written.
    trail = new AuditTrail(store, clock, { retentionDays: 30, flushIntervalMs: 60_000 });
  });
  afterAll(async () => {
    await trail.close();
    await store.close();
    await backend.cleanup();
  });

  it('queues events off the request path and writes them on flush()', async () => {
    trail.signIn({ at: t0, kind: 'managedIdentity', endpoint: 'imds', principalId: P1, appId: 'app-1', resource: 'https://vault.azure.net', hostResourceId: VM, success: true });
    expect(await store.db.selectFrom('audit_events').select('seq').execute()).toHaveLength(0);
    await trail.flush();
    expect(await store.db.selectFrom('audit_events').select('seq').execute()).toHaveLength(1);
  });

  it('stores the three categories with their columns and filters on them', async () => {
    trail.activity({ at: t0 + 1, caller: caller(P1), operation: 'Microsoft.Compute/virtualMachines/write', resourceId: VM, scope: VM, subscriptionId: '11111111-1111-1111-1111-111111111111', resourceGroup: 'App-RG', method: 'PUT', status: 201, correlationId: 'c-1', requestId: 'r-1' });
    trail.activity({ at: t0 + 2, caller: caller(P2), operation: 'Microsoft.Compute/virtualMachines/delete', resourceId: VM, scope: VM, subscriptionId: undefined, resourceGroup: undefined, method: 'DELETE', status: 403, correlationId: 'c-2', requestId: 'r-2', denial: { summary: 'denied: no role', explanation: { allowed: false } } });
    trail.dataAccess({ surface: 'blob', principalId: P1, appId: 'app-1', via: 'bearer', action: 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read', scope: `${ACCOUNT}/blobServices/default/containers/docs`, allowed: true, status: 200, summary: 'ok' });
    trail.dataAccess({ surface: 'blob', principalId: P1, appId: 'app-1', via: 'bearer', action: 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read', scope: `${ACCOUNT}/blobServices/default/containers/docs`, allowed: true, status: 404 });
    const all = await trail.query({});
    expect(all.events.map((e) => e.category)).toEqual(['signin', 'activity', 'activity', 'data', 'data']);
    expect(all.events.map((e) => e.result)).toEqual(['succeeded', 'succeeded', 'denied', 'succeeded', 'failed']);
    const denied = all.events[2]!;
    expect(denied).toMatchObject({ resourceGroup: 'app-rg', subscriptionId: '11111111-1111-1111-1111-111111111111', correlationId: 'c-2', httpStatus: 403 });
    expect(denied.details).toMatchObject({ summary: 'denied: no role', explanation: { allowed: false }, method: 'DELETE' });

    expect((await trail.query({ categories: ['data'] })).events).toHaveLength(2);
    expect((await trail.query({ categories: ['signin', 'activity'] })).events).toHaveLength(3);
    expect((await trail.query({ principal: P2 })).events).toHaveLength(1);
    expect((await trail.query({ principal: 'APP-' + P2.toUpperCase() })).events).toHaveLength(1);
    expect((await trail.query({ resourceGroup: 'APP-rg' })).events).toHaveLength(5);
    expect((await trail.query({ resourcePrefix: ACCOUNT })).events).toHaveLength(2);
    expect((await trail.query({ resourcePrefix: `${RG}/providers/Microsoft.Storage/storageAccounts/acc` })).events).toHaveLength(0);
    expect((await trail.query({ resourceId: VM.toUpperCase() })).events).toHaveLength(3);
    expect((await trail.query({ status: 'denied' })).events).toHaveLength(1);
    expect((await trail.query({ status: 'failed' })).events).toHaveLength(2);
    expect((await trail.query({ status: 'succeeded' })).events).toHaveLength(3);
    expect((await trail.query({ correlationId: 'c-1' })).events).toHaveLength(1);
    expect((await trail.query({ since: t0 + 1, until: t0 + 2 })).events).toHaveLength(2);
  });

  it('pages forward with `after` and backward with `before`', async () => {
    const p1 = await trail.query({ limit: 2 });
    expect(p1.events).toHaveLength(2);
    const p2 = await trail.query({ limit: 2, after: p1.next });
    const p3 = await trail.query({ limit: 2, after: p2.next });
    expect([...p1.events, ...p2.events, ...p3.events].map((e) => e.seq)).toEqual((await trail.query({})).events.map((e) => e.seq));
    // A follower's cursor stays put when nothing new arrived.
    expect((await trail.query({ after: p3.next })).next).toBe(p3.next);
    const d1 = await trail.query({ order: 'desc', limit: 3 });
    const d2 = await trail.query({ order: 'desc', limit: 3, before: d1.next });
    expect(d2.next).toBeUndefined();
    expect([...d1.events, ...d2.events].map((e) => e.seq)).toEqual((await trail.query({})).events.map((e) => e.seq).reverse());
  });

  it('aggregates usage per principal, action, scope and outcome', async () => {
    const rows = await trail.usage({ since: t0 - 1, until: Date.now() + 1000 });
    const blob = rows.filter((r) => r.category === 'data');
    expect(blob.map((r) => [r.result, r.httpStatus, r.count]).sort()).toEqual([
      ['failed', 404, 1],
      ['succeeded', 200, 1],
    ]);
    expect(rows.every((r) => r.principalId === P1 || r.principalId === P2)).toBe(true);
    expect(await trail.usage({ since: t0 - 1, until: Date.now() + 1000, principalId: P2 })).toHaveLength(1);
  });

  it('folds identical granted data reads of one batch into a row with a count; denials stay one row each', async () => {
    const SECRET = `${RG}/providers/Microsoft.KeyVault/vaults/kv1/secrets/db`;
    const read = { surface: 'keyvault' as const, principalId: P2, appId: 'app-2', via: 'bearer', action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action', scope: SECRET, status: 200 };
    const since = Date.now();
    for (let i = 0; i < 5; i++) trail.dataAccess({ ...read, allowed: true, summary: 'allowed: Key Vault Secrets User' });
    // A different reason, outcome or status is a different event.
    trail.dataAccess({ ...read, allowed: true, summary: 'allowed: Key Vault Administrator' });
    // Not the request just before, but the same as the first five: still their row.
    trail.dataAccess({ ...read, allowed: true, summary: 'allowed: Key Vault Secrets User' });
    trail.dataAccess({ ...read, allowed: false, status: 403, summary: 'denied' });
    trail.dataAccess({ ...read, allowed: false, status: 403, summary: 'denied' });
    await trail.flush();
    // The next batch starts a new row.
    trail.dataAccess({ ...read, allowed: true, summary: 'allowed: Key Vault Secrets User' });
    await trail.flush();
    const events = (await trail.query({ resourceId: SECRET })).events;
    expect(events.map((e) => [e.result, e.count, e.details['summary']])).toEqual([
      ['succeeded', 6, 'allowed: Key Vault Secrets User'],
      ['succeeded', 1, 'allowed: Key Vault Administrator'],
      ['denied', 1, 'denied'],
      ['denied', 1, 'denied'],
      ['succeeded', 1, 'allowed: Key Vault Secrets User'],
    ]);
    expect(events[0]!.details['lastAt']).toBeGreaterThanOrEqual(events[0]!.at);
    expect(events[1]!.details['lastAt']).toBeUndefined();
    // Usage counts what the rows stand for.
    const usage = (await trail.usage({ since: since - 1, until: Date.now() + 1000, principalId: P2 })).filter((r) => r.scope.toLowerCase() === SECRET.toLowerCase());
    expect(usage.map((r) => [r.result, r.count]).sort()).toEqual([
      ['denied', 2],
      ['succeeded', 8],
    ]);
  });

  it('scrubs tokens, secrets and signatures from everything it stores', async () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJvaWQiOiJ4In0.c2lnbmF0dXJl';
    trail.signIn({ at: t0 + 3, kind: 'clientCredentials', endpoint: 'oauth2-v2', principalId: undefined, appId: 'x', resource: 'https://vault.azure.net', hostResourceId: undefined, success: false, failure: `invalid_client: client_secret=hunter2&x=1 bearer ${jwt} Authorization: Bearer ${jwt}` });
    trail.dataAccess({ surface: 'blob', principalId: undefined, appId: undefined, via: 'serviceSas:key1', action: 'read', scope: `${ACCOUNT}/blobServices/default/containers/docs`, allowed: false, status: 403, summary: 'https://acct.blob/x?sv=2024&sig=SIGNATURE123&se=1', explanation: { token: jwt, note: `sig=abc` } });
    await trail.flush();
    const dump = JSON.stringify(await store.db.selectFrom('audit_events').selectAll().execute());
    for (const s of ['hunter2', jwt, 'SIGNATURE123', 'sig=abc']) expect(dump).not.toContain(s);
    expect(dump).toContain('client_secret=[redacted]');
  });

  it('purges events older than the retention period', async () => {
    const before = (await trail.query({ limit: 1000 })).events.length;
    trail.signIn({ at: t0 - 40 * 86_400_000, kind: 'managedIdentity', endpoint: 'imds', principalId: P1, appId: 'a', resource: 'r', hostResourceId: undefined, success: true });
    await trail.flush();
    expect((await trail.query({ limit: 1000 })).events.length).toBe(before + 1);
    expect(await trail.purge()).toBe(1);
    expect((await trail.query({ limit: 1000 })).events.length).toBe(before);
    clock.shift(31 * 86_400_000);
    expect(await trail.purge()).toBe(before);
    clock.shift(0);
  });

  it('writes what is still queued when it closes', async () => {
    const other = new AuditTrail(store, clock, { retentionDays: 0, flushIntervalMs: 60_000 });
    other.signIn({ at: t0, kind: 'managedIdentity', endpoint: 'imds', principalId: P2, appId: 'a', resource: 'r', hostResourceId: undefined, success: true });
    await other.close();
    expect((await trail.query({ principal: P2, categories: ['signin'] })).events).toHaveLength(1);
    // After close, nothing more is accepted.
    other.signIn({ at: t0, kind: 'managedIdentity', endpoint: 'imds', principalId: P2, appId: 'a', resource: 'r', hostResourceId: undefined, success: true });
    await other.flush();
    expect((await trail.query({ principal: P2, categories: ['signin'] })).events).toHaveLength(1);
  });

  it('writes a large burst in batches without hitting parameter limits', async () => {
    for (let i = 0; i < 2500; i++) trail.signIn({ at: t0 + 5, kind: 'managedIdentity', endpoint: 'imds', principalId: P1, appId: 'a', resource: 'r', hostResourceId: VM, success: true, cached: true });
    await trail.flush();
    expect((await trail.query({ since: t0 + 5, until: t0 + 5, limit: 1000 })).events).toHaveLength(1000);
    const n = await store.db.selectFrom('audit_events').select((eb) => eb.fn.countAll<number>().as('n')).where('at', '=', t0 + 5).executeTakeFirst();
    expect(Number(n?.n)).toBe(2500);
  });
});
