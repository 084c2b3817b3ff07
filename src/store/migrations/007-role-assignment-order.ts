import type { Kysely } from 'kysely';

/**
 * Role assignments in write order, straight from an index. Start-up (and a replica's resync) reads every
 * assignment in that order a page at a time; without this index it sorted the table's names first and then
 * looked each page's rows up by name (bench/NOTES.md, "Cold start").
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('role_assignments_order').on('role_assignments').columns(['created_at', 'name']).execute();
}

export async function down(): Promise<void> {
  throw new Error('Keyless migrations are forward-only');
}
