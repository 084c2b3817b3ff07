import type { Kysely } from 'kysely';

/**
 * Portal sign-in sessions (src/portal), in the store so every replica behind one name knows every session
 * and a restart signs nobody out. A row is keyed by the SHA-256 of the session id (the cookie value never
 * reaches the database) and holds the CSRF token only sealed by the keyring. Bearer tokens are not stored:
 * each replica mints its own for the session's principal.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('portal_sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('object_id', 'text', (c) => c.notNull())
    .addColumn('app_id', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('sealed_csrf', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .execute();
  // Signing a deleted principal out, and the sweeper's two range deletes.
  await db.schema.createIndex('portal_sessions_object_id').on('portal_sessions').column('object_id').execute();
  await db.schema.createIndex('portal_sessions_expires_at').on('portal_sessions').column('expires_at').execute();
  await db.schema.createIndex('portal_sessions_last_seen_at').on('portal_sessions').column('last_seen_at').execute();
}

export async function down(): Promise<void> {
  throw new Error('Keyless migrations are forward-only');
}
