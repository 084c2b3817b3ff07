import type { DeletedVaultRecord } from '../arm/providers/keyvault.js';
import type { Clock } from '../core/clock.js';
import type { StoredResource } from '../resources/index.js';
import type { Store, Tx } from '../store/index.js';
import { deletedVaults, heads, vaultResources, type DeletedVaultRow } from './repository.js';
import { vaultSecretsChange } from './secret-cache.js';

const VAULT_TYPE = 'microsoft.keyvault/vaults';
const DAY_MS = 86_400_000;

/** A soft-deleted vault, in the shape the ARM provider's port (arm/providers/keyvault.ts) asks for. */
export type DeletedVault = DeletedVaultRecord;

/**
 * Vault soft delete: deleting a vault (directly or with its resource group) keeps its name, settings and
 * secrets for the retention period; recover brings them back, purge (or time) removes them for good.
 */
export class VaultLifecycle {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Registered as a ResourceService delete hook: runs inside the delete transaction. */
  async onResourceDeleted(tx: Tx, r: StoredResource): Promise<void> {
    if (r.typeKey !== VAULT_TYPE) return;
    const now = this.clock.now();
    const days = typeof r.body.properties?.['softDeleteRetentionInDays'] === 'number' ? (r.body.properties['softDeleteRetentionInDays'] as number) : 90;
    await deletedVaults.put(tx, {
      name_key: r.name.toLowerCase(),
      vault_id: r.id,
      subscription_id: r.subscriptionId,
      location: normalizeLocation(r.body.location ?? ''),
      body: JSON.stringify(r.body),
      deleted_at: now,
      scheduled_purge_at: now + days * DAY_MS,
    });
  }

  /** A live vault holding this name anywhere (names are global). */
  async liveVaultId(name: string): Promise<string | undefined> {
    return (await vaultResources.byName(this.store.db, name.toLowerCase()))?.id;
  }

  /** A vault in the recycle bin; one past its purge date is purged here, so its name and secrets are free. */
  async getDeleted(name: string): Promise<DeletedVault | undefined> {
    const row = await deletedVaults.get(this.store.db, name.toLowerCase());
    if (!row) return undefined;
    if (row.scheduled_purge_at > this.clock.now()) return toDeleted(row);
    await this.purge(row.name_key);
    return undefined;
  }

  async listDeleted(subscriptionId: string): Promise<DeletedVault[]> {
    const now = this.clock.now();
    return (await deletedVaults.list(this.store.db, subscriptionId)).filter((r) => r.scheduled_purge_at > now).map(toDeleted);
  }

  /** Recovery: the name leaves the recycle bin; the secrets stay where they are (keyed by vault name). */
  async forgetDeleted(tx: Tx, name: string): Promise<void> {
    await deletedVaults.delete(tx, name.toLowerCase());
  }

  async purge(name: string): Promise<void> {
    const key = name.toLowerCase();
    await this.store.transaction(async (tx, changed) => {
      await deletedVaults.delete(tx, key);
      await heads.deleteVault(tx, key);
      changed(vaultSecretsChange(key));
    });
  }

  /** Purges vaults whose retention has run out. */
  async sweep(): Promise<number> {
    const expired = await deletedVaults.expired(this.store.db, this.clock.now());
    for (const r of expired) await this.purge(r.name_key);
    return expired.length;
  }
}

export const normalizeLocation = (l: string): string => l.toLowerCase().replace(/\s+/g, '');

function toDeleted(r: DeletedVaultRow): DeletedVault {
  const document = JSON.parse(r.body) as DeletedVault['document'];
  return {
    name: String(document['name'] ?? r.name_key),
    vaultId: r.vault_id,
    subscriptionId: r.subscription_id,
    location: r.location,
    document,
    deletedAt: r.deleted_at,
    scheduledPurgeAt: r.scheduled_purge_at,
    purgeProtection: document.properties?.['enablePurgeProtection'] === true,
  };
}
