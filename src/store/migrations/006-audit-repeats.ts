import { sql, type Kysely } from 'kysely';

/**
 * Audit rows that stand for repeats, and a smaller correlation index.
 *
 * - `repeats`: identical granted data-plane requests within one write batch (~100 ms) are kept as one row with a
 *   count (src/audit/trail.ts); every row written before this migration stands for one event.
 * - The correlation-id index only for rows that have one: data-plane and sign-in events (nearly all rows on a
 *   busy server) carry none, yet each still cost an index entry. Lookups by `correlation_id = ?` imply
 *   `is not null`, so SQLite and PostgreSQL both still use the partial index.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('audit_events').addColumn('repeats', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  await db.schema.dropIndex('audit_events_correlation').execute();
  await db.schema
    .createIndex('audit_events_correlation')
    .on('audit_events')
    .column('correlation_id')
    .where(sql.ref('correlation_id'), 'is not', null)
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('Keyless migrations are forward-only');
}
