import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * Blob data plane: containers, committed blobs, and their data as rows of bytes, so every replica sharing a
 * PostgreSQL store serves the same blobs. Blob and container names are compared byte-wise ("C" collation on
 * PostgreSQL, SQLite's default BINARY), which is the order List Blobs returns and the marker logic relies on.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const name = pg ? sql`text collate "C"` : sql`text`;
  const bytes = pg ? sql`bytea` : sql`blob`;

  await db.schema
    .createTable('blob_containers')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('name', name, (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('etag', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_modified', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('blob_containers_pk', ['account', 'name'])
    .execute();

  await db.schema
    .createTable('blob_objects')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('container', 'text', (c) => c.notNull())
    .addColumn('name', name, (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('content_type', 'text')
    .addColumn('content_encoding', 'text')
    .addColumn('content_language', 'text')
    .addColumn('content_md5', 'text')
    .addColumn('cache_control', 'text')
    .addColumn('content_disposition', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull())
    // JSON list of the data rows that make up the blob, in order: [{d: dataId, s: size, b?: blockId}].
    .addColumn('blocks', 'text', (c) => c.notNull())
    .addColumn('etag', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_modified', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('blob_objects_pk', ['account', 'container', 'name'])
    .execute();

  // Committed pieces (Put Blob's chunks, committed blocks) and staged blocks (Put Block, staged = 1).
  await db.schema
    .createTable('blob_data')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('container', 'text', (c) => c.notNull())
    .addColumn('blob', name, (c) => c.notNull())
    .addColumn('block_id', 'text')
    .addColumn('staged', 'integer', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('data', bytes, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('blob_data_blob').on('blob_data').columns(['account', 'container', 'blob', 'staged']).execute();
}

export async function down(): Promise<void> {
  throw new Error('Keyless migrations are forward-only');
}
