import { type Kysely } from 'kysely';

/**
 * Key Vault: secret versions (values sealed by the keyring), the per-name state that soft delete needs, and
 * soft-deleted vaults. Vault and secret names are case-insensitive in Azure, so `*_key` columns hold the
 * lower-cased form and the display casing lives beside it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('kv_secrets')
    .addColumn('vault_key', 'text', (c) => c.notNull())
    .addColumn('name_key', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('latest_version', 'text', (c) => c.notNull())
    // Soft delete: both set while the secret sits in the recycle bin, null while it is live.
    .addColumn('deleted_at', 'bigint')
    .addColumn('scheduled_purge_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('kv_secrets_pk', ['vault_key', 'name_key'])
    .execute();

  await db.schema
    .createTable('kv_secret_versions')
    .addColumn('vault_key', 'text', (c) => c.notNull())
    .addColumn('name_key', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('sealed_value', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text')
    .addColumn('tags', 'text')
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('nbf', 'bigint')
    .addColumn('exp', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    // Orders versions of one secret when two are created within the same millisecond.
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('kv_secret_versions_pk', ['vault_key', 'name_key', 'version'])
    .execute();
  await db.schema.createIndex('kv_secret_versions_order').on('kv_secret_versions').columns(['vault_key', 'name_key', 'seq']).execute();

  await db.schema
    .createTable('kv_deleted_vaults')
    .addColumn('name_key', 'text', (c) => c.primaryKey())
    .addColumn('vault_id', 'text', (c) => c.notNull())
    .addColumn('subscription_id', 'text', (c) => c.notNull())
    .addColumn('location', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint', (c) => c.notNull())
    .addColumn('scheduled_purge_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('kv_deleted_vaults_sub').on('kv_deleted_vaults').column('subscription_id').execute();
}

export async function down(): Promise<void> {
  throw new Error('Keyless migrations are forward-only');
}
