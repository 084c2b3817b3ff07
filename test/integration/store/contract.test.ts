import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store, repos, type Change } from '../../../src/store/index.js';
import { createTestDatabase } from '../../support/postgres.js';

/** One contract, two backends: everything the domain relies on behaves the same on SQLite and PostgreSQL. */
type Backend = { name: string; open(): Promise<Store>; cleanup(): Promise<void> };

const sqliteDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-store-'));
const backends: Backend[] = [
  { name: 'sqlite', open: () => Store.open({ dataDir: sqliteDir }), cleanup: async () => fs.rmSync(sqliteDir, { recursive: true, force: true }) },
];
const pgdb = await createTestDatabase();
if (pgdb) backends.push({ name: 'postgres', open: () => Store.open({ databaseUrl: pgdb.url }), cleanup: () => pgdb.drop() });

const row = (key: string, over: Partial<Parameters<typeof repos.resources.put>[1]> = {}) => ({
  key: key.toLowerCase(),
  id: key,
  type_key: 'microsoft.compute/virtualmachines',
  subscription_id: 's1',
  group_key: 'g1',
  parent_key: null,
  name: key.split('/').pop()!,
  body: JSON.stringify({ id: key }),
  internal: '{}',
  etag: '"1"',
  created_at: 1,
  updated_at: 1,
  ...over,
});

describe.each(backends)('store contract: $name', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await backend.open();
  });
  afterAll(async () => {
    await store.close();
    await backend.cleanup();
  });

  it('migrates to the latest schema and is idempotent on reopen', async () => {
    await store.close();
    store = await backend.open();
    const tables = ['meta', 'principals', 'resources', 'role_assignments', 'signing_keys', 'data_keys'];
    for (const t of tables) {
      // selecting from a missing table throws
      await expect(store.db.selectFrom(t as 'meta').selectAll().limit(1).execute()).resolves.toBeInstanceOf(Array);
    }
  });

  it('meta.setIfAbsent keeps the first value', async () => {
    expect(await repos.meta.setIfAbsent(store.db, 'k', 'first')).toBe('first');
    expect(await repos.meta.setIfAbsent(store.db, 'k', 'second')).toBe('first');
  });

  it('resources: put, get, list by scope, descendants with LIKE metacharacters escaped', async () => {
    await repos.resources.put(store.db, row('/subscriptions/s1/resourceGroups/g1/providers/A.B/c/x_1'));
    await repos.resources.put(store.db, row('/subscriptions/s1/resourceGroups/g1/providers/A.B/c/x_1/d/child'));
    await repos.resources.put(store.db, row('/subscriptions/s1/resourceGroups/g1/providers/A.B/c/xa1/d/other'));
    expect((await repos.resources.get(store.db, '/subscriptions/s1/resourcegroups/g1/providers/a.b/c/x_1'))?.name).toBe('x_1');
    const kids = await repos.resources.descendants(store.db, '/subscriptions/s1/resourcegroups/g1/providers/a.b/c/x_1');
    expect(kids.map((k) => k.name)).toEqual(['child']);
    expect((await repos.resources.list(store.db, { subscriptionId: 's1', groupKey: 'g1' })).length).toBe(3);
  });

  it('resources: re-PUT keeps created_at; compare-and-set on ETag refuses a stale writer', async () => {
    const key = '/subscriptions/s1/resourceGroups/g1/providers/A.B/c/cas';
    await repos.resources.put(store.db, row(key, { created_at: 100, etag: '"a"' }));
    await repos.resources.put(store.db, row(key, { created_at: 200, etag: '"b"', updated_at: 5 }));
    const r = await repos.resources.get(store.db, key.toLowerCase());
    expect(r?.created_at).toBe(100);
    expect(r?.updated_at).toBe(5);
    expect(await repos.resources.replaceIfEtag(store.db, row(key, { etag: '"c"' }), '"a"')).toBe(false);
    expect(await repos.resources.replaceIfEtag(store.db, row(key, { etag: '"c"' }), '"b"')).toBe(true);
  });

  it('a failed transaction leaves nothing half-written and publishes nothing', async () => {
    const seen: Change[] = [];
    const off = store.onChange((c) => seen.push(c));
    await expect(
      store.transaction(async (tx, changed) => {
        await repos.resources.put(tx, row('/subscriptions/s1/resourceGroups/g1/providers/A.B/c/rolled'));
        changed({ topic: 'resource', key: 'rolled' });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    off();
    expect(await repos.resources.get(store.db, '/subscriptions/s1/resourcegroups/g1/providers/a.b/c/rolled')).toBeUndefined();
    expect(seen).toEqual([]);
  });

  it('changes are published after commit', async () => {
    const seen: Change[] = [];
    const off = store.onChange((c) => seen.push(c));
    await store.transaction(async (_tx, changed) => {
      changed({ topic: 'principal', key: 'p1' });
      expect(seen).toEqual([]);
    });
    off();
    expect(seen).toEqual([{ topic: 'principal', key: 'p1' }]);
  });

  it('role assignments: one (scope, principal, role) only', async () => {
    const base = { scope_key: '/subscriptions/s1', principal_id: 'p', role_definition_name: 'r', body: '{}', created_at: 1 };
    await repos.roleAssignments.insert(store.db, { ...base, name: 'a1' });
    await expect(repos.roleAssignments.insert(store.db, { ...base, name: 'a2' })).rejects.toThrow();
    expect((await repos.roleAssignments.list(store.db)).map((r) => r.name)).toContain('a1');
  });

  it('role assignments page in write order, ties by name, each exactly once', async () => {
    // Three timestamps shared by many rows, inserted out of order: pages must not skip or repeat across a tie.
    const rows = Array.from({ length: 250 }, (_, i) => ({
      name: `page-${String((i * 37) % 250).padStart(3, '0')}`,
      scope_key: `/subscriptions/s1/resourcegroups/g${i}`,
      principal_id: 'pager',
      role_definition_name: 'r',
      body: JSON.stringify({ i }),
      created_at: 2_000_000_000_000 + (i % 3),
    }));
    for (const r of rows) await repos.roleAssignments.insert(store.db, r);
    const expected = rows
      .map((r) => [r.created_at, r.name] as const)
      .sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1))
      .map(([, n]) => n);
    const seen: string[] = [];
    let after: { created_at: number; name: string } | undefined;
    for (;;) {
      const page = await repos.roleAssignments.page(store.db, after, 40);
      if (page.length === 0) break;
      expect(page.length).toBeLessThanOrEqual(40);
      seen.push(...page.map((r) => r.name));
      after = { created_at: page.at(-1)!.created_at, name: page.at(-1)!.name };
    }
    expect(seen.filter((n) => n.startsWith('page-'))).toEqual(expected);
  });

  it('bigint timestamps come back as numbers', async () => {
    await repos.tenants.insert(store.db, { id: 't', display_name: 'T', created_at: 1_795_000_000_000 });
    const t = await repos.tenants.get(store.db, 't');
    expect(t?.created_at).toBe(1_795_000_000_000);
    expect(typeof t?.created_at).toBe('number');
  });

  it('data survives reopening', async () => {
    await repos.meta.set(store.db, 'survives', 'yes');
    await store.close();
    store = await backend.open();
    expect(await repos.meta.get(store.db, 'survives')).toBe('yes');
  });
});
