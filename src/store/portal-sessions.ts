import { sql, type Selectable } from 'kysely';
import type { Db, Tx } from './store.js';
import type { PortalSessionTable } from './schema.js';

/** Statements over `portal_sessions` (migration 005), used by src/portal/session.ts. Same SQL on both dialects. */
export type PortalSessionRow = Selectable<PortalSessionTable>;

type Q = Db | Tx;

export async function insert(q: Q, row: PortalSessionRow): Promise<void> {
  await q.insertInto('portal_sessions').values(row).execute();
}

export async function get(q: Q, idHash: string): Promise<PortalSessionRow | undefined> {
  return q.selectFrom('portal_sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
}

/**
 * Records a use of the session; never moves last_seen_at backwards (another replica may have written a later
 * one). Returns false when the row is gone: signed out or swept, and this replica has not heard yet.
 */
export async function touch(q: Q, idHash: string, now: number): Promise<boolean> {
  const r = await q
    .updateTable('portal_sessions')
    .set({ last_seen_at: sql<number>`case when last_seen_at < ${now} then ${now} else last_seen_at end` })
    .where('id_hash', '=', idHash)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function remove(q: Q, idHash: string): Promise<boolean> {
  const r = await q.deleteFrom('portal_sessions').where('id_hash', '=', idHash).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Deletes every session of a principal; returns their keys so the caller can tell other replicas. */
export async function removeForPrincipal(tx: Tx, objectId: string): Promise<string[]> {
  const rows = await tx.selectFrom('portal_sessions').select('id_hash').where('object_id', '=', objectId).execute();
  if (rows.length > 0) await tx.deleteFrom('portal_sessions').where('object_id', '=', objectId).execute();
  return rows.map((r) => r.id_hash);
}

export async function count(q: Q): Promise<number> {
  const r = await q.selectFrom('portal_sessions').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

/** The `n` oldest sessions' keys (by sign-in time), for the session cap. */
export async function oldest(q: Q, n: number): Promise<string[]> {
  const rows = await q.selectFrom('portal_sessions').select('id_hash').orderBy('created_at').orderBy('id_hash').limit(n).execute();
  return rows.map((r) => r.id_hash);
}

/** Deletes sessions that ended (absolutely, or by idling) before the given instants; returns how many. */
export async function removeEnded(q: Q, before: { expiresAt: number; lastSeenAt: number }): Promise<number> {
  const r = await q
    .deleteFrom('portal_sessions')
    .where((e) => e.or([e('expires_at', '<', before.expiresAt), e('last_seen_at', '<', before.lastSeenAt)]))
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
