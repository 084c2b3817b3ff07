import { PostgresAdapter, type Kysely } from 'kysely';

/**
 * The audit trail (src/audit): sign-in, activity and data-access events in one table, so one query with one
 * cursor serves `keyless logs --follow`, the activity-log API and the access review. The columns are what
 * those queries filter and group by; everything else about an event lives in `body` (JSON, already scrubbed
 * of tokens and signatures).
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;

  await db.schema
    .createTable('audit_events')
    // The cursor: insertion order, which is what a follower needs (a replica's late batch still comes after).
    .addColumn('seq', pg ? 'bigserial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('result', 'text', (c) => c.notNull())
    .addColumn('http_status', 'integer')
    .addColumn('principal_id', 'text')
    .addColumn('app_id', 'text')
    .addColumn('operation', 'text', (c) => c.notNull())
    .addColumn('scope', 'text')
    .addColumn('scope_key', 'text')
    .addColumn('subscription_id', 'text')
    .addColumn('resource_group', 'text')
    .addColumn('correlation_id', 'text')
    .addColumn('body', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_events_at').on('audit_events').column('at').execute();
  await db.schema.createIndex('audit_events_category_at').on('audit_events').columns(['category', 'at']).execute();
  await db.schema.createIndex('audit_events_principal_at').on('audit_events').columns(['principal_id', 'at']).execute();
  await db.schema.createIndex('audit_events_correlation').on('audit_events').column('correlation_id').execute();
}

export async function down(): Promise<void> {
  throw new Error('Keyless migrations are forward-only');
}
