import type { Clock } from '../../core/clock.js';
import type { Change, Store } from '../../store/index.js';
import type { NamedKey } from '../auth/shared-key.js';
import { isStoredAccountKeys, openAccountKeys, type KeySealer } from './account-keys.js';
import { findAccountResource } from './repository.js';

/** What the data plane needs to know about a storage account on every request. */
export interface StorageAccount {
  name: string;
  /** ARM id, as created. */
  id: string;
  /** Unsealed key1/key2, for Shared Key and SAS checks. */
  keys: NamedKey[];
  /** `properties.allowSharedKeyAccess: false` turns off Shared Key and SAS (Entra only). */
  allowSharedKeyAccess: boolean;
  skuName: string;
  kind: string;
}

const ACCOUNT_KEY = /\/providers\/microsoft\.storage\/storageaccounts\/([^/]+)$/;

/**
 * Accounts by name, with their keys unsealed once and kept in memory: every Shared Key and SAS request needs
 * them, and unsealing per request would cost an AES-GCM open and a query. A committed change to the account
 * resource (regenerateKey, PATCH, delete) drops the entry at once, here or, through the store's change feed,
 * on another replica; the TTL bounds staleness should a notification ever be lost.
 */
export class AccountRegistry {
  private readonly cache = new Map<string, { at: number; value: Promise<StorageAccount | undefined> }>();

  constructor(
    private readonly store: Store,
    private readonly sealer: KeySealer,
    private readonly clock: Clock,
    private readonly ttlMs = 10_000,
  ) {}

  /** Wire to `store.onChange`. */
  onChange(c: Change): void {
    // `all`: the store could not say what changed (e.g. a replica's change feed reconnected).
    if ((c.topic as string) === 'all') {
      this.cache.clear();
      return;
    }
    if (c.topic !== 'resource') return;
    const m = ACCOUNT_KEY.exec(c.key);
    if (m) this.cache.delete(m[1]!);
  }

  async get(name: string): Promise<StorageAccount | undefined> {
    const key = name.toLowerCase();
    const now = this.clock.now();
    const hit = this.cache.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    const value = this.load(key);
    this.cache.set(key, { at: now, value });
    // A failed load (database hiccup) must not be remembered.
    value.catch(() => this.cache.delete(key));
    return value;
  }

  private async load(name: string): Promise<StorageAccount | undefined> {
    const row = await findAccountResource(this.store.db, name);
    if (!row) return undefined;
    const internal = JSON.parse(row.internal) as Record<string, unknown>;
    const body = JSON.parse(row.body) as { properties?: Record<string, unknown>; sku?: { name?: unknown }; kind?: unknown };
    const stored = internal['storageKeys'];
    const keys = isStoredAccountKeys(stored) ? openAccountKeys(this.sealer, row.key, stored).map((k) => ({ keyName: k.keyName, value: k.value })) : [];
    return {
      name,
      id: row.id,
      keys,
      allowSharedKeyAccess: body.properties?.['allowSharedKeyAccess'] !== false,
      skuName: typeof body.sku?.name === 'string' ? body.sku.name : 'Standard_LRS',
      kind: typeof body.kind === 'string' ? body.kind : 'StorageV2',
    };
  }
}
