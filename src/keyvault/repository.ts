import { sql, type Selectable } from 'kysely';
import type { Db, Tx } from '../store/index.js';
import type { KvDeletedVaultTable, KvSecretTable, KvSecretVersionTable } from '../store/schema.js';

/** Key Vault's own statements over its tables (migration 002). Callers pass the db or a transaction. */
type Q = Db | Tx;

export type SecretHeadRow = Selectable<KvSecretTable>;
export type SecretVersionRow = Selectable<KvSecretVersionTable>;
export type DeletedVaultRow = Selectable<KvDeletedVaultTable>;
export type HeadWithLatest = SecretHeadRow & { latest: SecretVersionRow };

const VERSION_COLUMNS = ['v.vault_key', 'v.name_key', 'v.version', 'v.sealed_value', 'v.content_type', 'v.tags', 'v.enabled', 'v.nbf', 'v.exp', 'v.created_at', 'v.updated_at', 'v.seq'] as const;

export const heads = {
  async get(q: Q, vaultKey: string, nameKey: string): Promise<SecretHeadRow | undefined> {
    return q.selectFrom('kv_secrets').selectAll().where('vault_key', '=', vaultKey).where('name_key', '=', nameKey).executeTakeFirst();
  },
  async insert(q: Q, row: SecretHeadRow): Promise<void> {
    await q.insertInto('kv_secrets').values(row).execute();
  },
  async update(q: Q, vaultKey: string, nameKey: string, set: Partial<Pick<SecretHeadRow, 'latest_version' | 'deleted_at' | 'scheduled_purge_at' | 'name'>>): Promise<void> {
    await q.updateTable('kv_secrets').set(set).where('vault_key', '=', vaultKey).where('name_key', '=', nameKey).execute();
  },
  /** One page of live (or deleted) secrets with their latest version, by name. */
  async page(q: Q, vaultKey: string, deleted: boolean, after: string | undefined, limit: number): Promise<HeadWithLatest[]> {
    let s = q
      .selectFrom('kv_secrets as h')
      .innerJoin('kv_secret_versions as v', (j) => j.onRef('v.vault_key', '=', 'h.vault_key').onRef('v.name_key', '=', 'h.name_key').onRef('v.version', '=', 'h.latest_version'))
      .select(['h.vault_key as h_vault_key', 'h.name_key as h_name_key', 'h.name', 'h.latest_version', 'h.deleted_at', 'h.scheduled_purge_at', 'h.created_at as h_created_at', ...VERSION_COLUMNS])
      .where('h.vault_key', '=', vaultKey)
      .where('h.deleted_at', deleted ? 'is not' : 'is', null);
    if (after !== undefined) s = s.where('h.name_key', '>', after);
    const rows = await s.orderBy('h.name_key').limit(limit).execute();
    return rows.map((r) => ({
      vault_key: r.h_vault_key,
      name_key: r.h_name_key,
      name: r.name,
      latest_version: r.latest_version,
      deleted_at: r.deleted_at,
      scheduled_purge_at: r.scheduled_purge_at,
      created_at: r.h_created_at,
      latest: {
        vault_key: r.vault_key,
        name_key: r.name_key,
        version: r.version,
        sealed_value: r.sealed_value,
        content_type: r.content_type,
        tags: r.tags,
        enabled: r.enabled,
        nbf: r.nbf,
        exp: r.exp,
        created_at: r.created_at,
        updated_at: r.updated_at,
        seq: r.seq,
      },
    }));
  },
  async deleteOne(q: Q, vaultKey: string, nameKey: string): Promise<void> {
    await q.deleteFrom('kv_secret_versions').where('vault_key', '=', vaultKey).where('name_key', '=', nameKey).execute();
    await q.deleteFrom('kv_secrets').where('vault_key', '=', vaultKey).where('name_key', '=', nameKey).execute();
  },
  /** Everything a vault holds (vault purge). */
  async deleteVault(q: Q, vaultKey: string): Promise<void> {
    await q.deleteFrom('kv_secret_versions').where('vault_key', '=', vaultKey).execute();
    await q.deleteFrom('kv_secrets').where('vault_key', '=', vaultKey).execute();
  },
  /** Soft-deleted secrets whose retention has run out. */
  async expired(q: Q, now: number): Promise<{ vault_key: string; name_key: string }[]> {
    return q.selectFrom('kv_secrets').select(['vault_key', 'name_key']).where('scheduled_purge_at', '<=', now).limit(500).execute();
  },
};

export const versions = {
  async get(q: Q, vaultKey: string, nameKey: string, version: string): Promise<SecretVersionRow | undefined> {
    return q
      .selectFrom('kv_secret_versions')
      .selectAll()
      .where('vault_key', '=', vaultKey)
      .where('name_key', '=', nameKey)
      .where('version', '=', version)
      .executeTakeFirst();
  },
  async insert(q: Q, row: SecretVersionRow): Promise<void> {
    await q.insertInto('kv_secret_versions').values(row).execute();
  },
  async update(q: Q, vaultKey: string, nameKey: string, version: string, set: Partial<Pick<SecretVersionRow, 'content_type' | 'tags' | 'enabled' | 'nbf' | 'exp' | 'updated_at'>>): Promise<void> {
    await q.updateTable('kv_secret_versions').set(set).where('vault_key', '=', vaultKey).where('name_key', '=', nameKey).where('version', '=', version).execute();
  },
  async nextSeq(q: Q, vaultKey: string, nameKey: string): Promise<number> {
    const r = await q
      .selectFrom('kv_secret_versions')
      .select((eb) => eb.fn.max('seq').as('m'))
      .where('vault_key', '=', vaultKey)
      .where('name_key', '=', nameKey)
      .executeTakeFirst();
    return Number(r?.m ?? 0) + 1;
  },
  async page(q: Q, vaultKey: string, nameKey: string, afterSeq: number | undefined, limit: number): Promise<SecretVersionRow[]> {
    let s = q.selectFrom('kv_secret_versions').selectAll().where('vault_key', '=', vaultKey).where('name_key', '=', nameKey);
    if (afterSeq !== undefined) s = s.where('seq', '>', afterSeq);
    return s.orderBy('seq').limit(limit).execute();
  },
  async all(q: Q, vaultKey: string, nameKey: string): Promise<SecretVersionRow[]> {
    return q.selectFrom('kv_secret_versions').selectAll().where('vault_key', '=', vaultKey).where('name_key', '=', nameKey).orderBy('seq').execute();
  },
};

export const deletedVaults = {
  async get(q: Q, nameKey: string): Promise<DeletedVaultRow | undefined> {
    return q.selectFrom('kv_deleted_vaults').selectAll().where('name_key', '=', nameKey).executeTakeFirst();
  },
  async put(q: Q, row: DeletedVaultRow): Promise<void> {
    await q
      .insertInto('kv_deleted_vaults')
      .values(row)
      .onConflict((oc) => oc.column('name_key').doUpdateSet({ ...row }))
      .execute();
  },
  async delete(q: Q, nameKey: string): Promise<void> {
    await q.deleteFrom('kv_deleted_vaults').where('name_key', '=', nameKey).execute();
  },
  async list(q: Q, subscriptionId: string): Promise<DeletedVaultRow[]> {
    return q.selectFrom('kv_deleted_vaults').selectAll().where('subscription_id', '=', subscriptionId.toLowerCase()).orderBy('name_key').execute();
  },
  async expired(q: Q, now: number): Promise<DeletedVaultRow[]> {
    return q.selectFrom('kv_deleted_vaults').selectAll().where('scheduled_purge_at', '<=', now).execute();
  },
};

/** Live vault rows in the shared resources table, found by their globally unique name. */
export const vaultResources = {
  async byName(q: Q, nameKey: string): Promise<{ key: string; id: string; body: string } | undefined> {
    return q
      .selectFrom('resources')
      .select(['key', 'id', 'body'])
      .where('type_key', '=', 'microsoft.keyvault/vaults')
      .where(sql<string>`lower(${sql.ref('name')})`, '=', nameKey)
      .executeTakeFirst();
  },
};
