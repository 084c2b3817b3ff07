import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/core/clock.js';
import { LatestSecretCache, secretChange } from '../../../src/keyvault/secret-cache.js';
import { SecretService } from '../../../src/keyvault/secrets.js';
import type { VaultInfo } from '../../../src/keyvault/vault-info.js';
import { VaultLifecycle } from '../../../src/keyvault/vault-lifecycle.js';
import type { Sealer } from '../../../src/server/plugin.js';
import { Store } from '../../../src/store/index.js';
import { createTestDatabase } from '../../support/postgres.js';

/** Binds the AAD like the keyring does, and counts opens so a test can tell a cached read from a store read. */
class CountingSealer implements Sealer {
  opens = 0;
  seal(plaintext: Buffer | string, aad: string): string {
    return `${aad}|${Buffer.from(plaintext).toString('base64')}`;
  }
  open(sealed: string, aad: string): Buffer {
    this.opens++;
    const i = sealed.indexOf('|');
    if (sealed.slice(0, i) !== aad) throw new Error('aad mismatch');
    return Buffer.from(sealed.slice(i + 1), 'base64');
  }
}

const vault: VaultInfo = {
  nameKey: 'kv-cache',
  name: 'kv-cache',
  id: '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-cache',
  location: 'westeurope',
  tenantId: '00000000-0000-0000-0000-00000000000a',
  subscriptionId: '00000000-0000-0000-0000-000000000001',
  rbac: true,
  accessPolicies: [],
  softDeleteDays: 7,
  purgeProtection: false,
};

describe('Key Vault latest-secret cache (one replica, SQLite)', () => {
  let store: Store;
  let sealer: CountingSealer;
  let secrets: SecretService;

  beforeAll(async () => {
    store = await Store.open({ memory: true });
  });
  afterAll(async () => {
    await store.close();
  });
  afterEach(() => {
    sealer.opens = 0;
  });

  it('serves repeated reads of the latest version without opening the value again', async () => {
    sealer = new CountingSealer();
    secrets = new SecretService(store, sealer, systemClock);
    await secrets.set(vault, 'Conn', { value: 'one' });
    expect((await secrets.get(vault, 'conn')).value).toBe('one');
    expect((await secrets.get(vault, 'CONN')).value).toBe('one');
    expect(sealer.opens).toBe(1);
  });

  it('a new version, an update, a delete and a recovery are seen by the next read', async () => {
    const v2 = await secrets.set(vault, 'conn', { value: 'two', tags: { a: 'b' } });
    const got = await secrets.get(vault, 'conn');
    expect(got.value).toBe('two');
    expect(got.view.version).toBe(v2.view.version);
    expect(got.view.tags).toEqual({ a: 'b' });

    await secrets.update(vault, 'conn', undefined, { enabled: false });
    expect((await secrets.get(vault, 'conn')).view.enabled).toBe(false);

    await secrets.delete(vault, 'conn');
    await expect(secrets.get(vault, 'conn')).rejects.toMatchObject({ status: 404 });

    await secrets.recover(vault, 'conn');
    expect((await secrets.get(vault, 'conn')).value).toBe('two');
  });

  it('a vault purge drops the vault’s secrets from the cache', async () => {
    await secrets.set(vault, 'p1', { value: 'x' });
    expect((await secrets.get(vault, 'p1')).value).toBe('x');
    await new VaultLifecycle(store, systemClock).purge(vault.name);
    await expect(secrets.get(vault, 'p1')).rejects.toMatchObject({ status: 404 });
  });

  it('a read by version is not answered from the latest entry', async () => {
    const first = await secrets.set(vault, 'versioned', { value: 'old' });
    await secrets.set(vault, 'versioned', { value: 'new' });
    expect((await secrets.get(vault, 'versioned')).value).toBe('new');
    expect((await secrets.get(vault, 'versioned', first.view.version)).value).toBe('old');
  });

  it('cached views are frozen, so one request cannot change another’s answer', async () => {
    await secrets.set(vault, 'frozen', { value: 'v', tags: { t: '1' } });
    const { view } = await secrets.get(vault, 'frozen');
    expect(Object.isFrozen(view)).toBe(true);
    expect(Object.isFrozen(view.tags)).toBe(true);
  });
});

describe('LatestSecretCache', () => {
  let store: Store;
  beforeAll(async () => {
    store = await Store.open({ memory: true });
  });
  afterAll(async () => {
    await store.close();
  });

  const entry = (value: string) => ({ view: { name: 'n', version: 'v', contentType: undefined, tags: undefined, enabled: true, nbf: undefined, exp: undefined, created: 0, updated: 0 }, value });

  it('ignores a fill that started before an invalidation arrived', () => {
    const cache = new LatestSecretCache(store);
    const before = cache.generation();
    store.publish(secretChange('v', 'a'));
    cache.set(before, 'v', 'a', entry('stale'));
    expect(cache.get('v', 'a')).toBeUndefined();
    cache.set(cache.generation(), 'v', 'a', entry('fresh'));
    expect(cache.get('v', 'a')?.value).toBe('fresh');
  });

  it('is bounded by entries and by total value size, dropping the least recently used', () => {
    const cache = new LatestSecretCache(store, 2, 10);
    cache.set(cache.generation(), 'v', 'a', entry('aaaa'));
    cache.set(cache.generation(), 'v', 'b', entry('bbbb'));
    cache.get('v', 'a');
    cache.set(cache.generation(), 'v', 'c', entry('cccc'));
    expect(cache.get('v', 'b')).toBeUndefined();
    expect(cache.size).toBe(2);
    cache.set(cache.generation(), 'v', 'd', entry('dddddddd'));
    // 4 + 8 > 10: only the newest fits.
    expect(cache.size).toBe(1);
    expect(cache.get('v', 'd')?.value).toBe('dddddddd');
    cache.set(cache.generation(), 'v', 'e', entry('x'.repeat(11)));
    expect(cache.get('v', 'e')).toBeUndefined();
  });

  it('a feed gap (`all`) or a vault resource change drops everything', () => {
    const cache = new LatestSecretCache(store);
    cache.set(cache.generation(), 'v', 'a', entry('a'));
    store.publish({ topic: 'resource', key: '/subscriptions/s/resourcegroups/rg/providers/microsoft.keyvault/vaults/v' });
    expect(cache.size).toBe(0);
    cache.set(cache.generation(), 'v', 'a', entry('a'));
    store.publish({ topic: 'all', key: '*' });
    expect(cache.size).toBe(0);
  });
});

const db = await createTestDatabase();

describe.runIf(db)('Key Vault latest-secret cache across replicas (PostgreSQL)', () => {
  let a: Store;
  let b: Store;
  let onA: SecretService;
  let onB: SecretService;

  beforeAll(async () => {
    a = await Store.open({ databaseUrl: db!.url });
    b = await Store.open({ databaseUrl: db!.url });
    const sealer = new CountingSealer();
    onA = new SecretService(a, sealer, systemClock);
    onB = new SecretService(b, sealer, systemClock);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it('a write on replica A is never served stale by replica B once B has the notification', async () => {
    // B must have heard of v1 before the loop listens: a late v1 notification would otherwise be read as v2's.
    const heardV1 = new Promise<void>((resolve) => {
      const off = b.onChange((c) => {
        if (c.topic !== 'secret' || c.key !== `${vault.nameKey}/shared`) return;
        off();
        resolve();
      });
    });
    await onA.set(vault, 'shared', { value: 'v1' });
    await heardV1;
    expect((await onB.get(vault, 'shared')).value).toBe('v1');
    expect((await onB.get(vault, 'shared')).value).toBe('v1');

    for (const value of ['v2', 'v3', 'v4']) {
      const seen = new Promise<string>((resolve) => {
        const off = b.onChange((c) => {
          if (c.topic !== 'secret' || c.key !== `${vault.nameKey}/shared`) return;
          off();
          // Read the moment the notification lands: the cache must not answer with the old value.
          void onB.get(vault, 'shared').then((r) => resolve(r.value));
        });
      });
      await onA.set(vault, 'shared', { value });
      expect(await seen).toBe(value);
      expect((await onB.get(vault, 'shared')).value).toBe(value);
    }

    await onA.delete(vault, 'shared');
    await expect.poll(() => onB.get(vault, 'shared').then(() => 'found', (e: { status?: number }) => e.status), { timeout: 2000 }).toBe(404);
  });
});
