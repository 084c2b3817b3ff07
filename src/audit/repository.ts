import { sql, type Insertable, type Selectable } from 'kysely';
import type { Db } from '../store/index.js';
import type { AuditEventTable } from '../store/schema.js';
import type { AuditCategory, AuditEvent, AuditPage, AuditQuery, AuditResult, UsageRow } from './types.js';

/** The audit trail's own statements over `audit_events` (migration 004). Same SQL on SQLite and PostgreSQL. */
export type AuditRow = Selectable<AuditEventTable>;
export type NewAuditRow = Insertable<AuditEventTable>;

// 15 columns a row: 200 rows stay far below SQLite's bound-parameter limit and PostgreSQL's 65535.
const INSERT_CHUNK = 200;
export const MAX_PAGE = 1000;
const DEFAULT_PAGE = 100;

export async function insertEvents(db: Db, rows: readonly NewAuditRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.transaction().execute(async (tx) => {
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) await tx.insertInto('audit_events').values(rows.slice(i, i + INSERT_CHUNK)).execute();
  });
}

/** Deletes events older than `before` (epoch ms); returns how many went. */
export async function purgeBefore(db: Db, before: number): Promise<number> {
  const r = await db.deleteFrom('audit_events').where('at', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Prefix match on the lower-cased scope, on segment boundaries: `/a/b` matches `/a/b` and `/a/b/c`, not `/a/bc`. */
function underScope(prefix: string) {
  const p = prefix.replace(/\/+$/, '').toLowerCase();
  const child = `${p}/`;
  return sql<boolean>`(scope_key = ${p} or substr(scope_key, 1, ${child.length}) = ${child})`;
}

export async function queryEvents(db: Db, q: AuditQuery): Promise<AuditPage> {
  const limit = Math.min(Math.max(1, Math.floor(q.limit ?? DEFAULT_PAGE)), MAX_PAGE);
  const order = q.order ?? 'asc';
  let s = db.selectFrom('audit_events').selectAll();
  if (q.since !== undefined) s = s.where('at', '>=', q.since);
  if (q.until !== undefined) s = s.where('at', '<=', q.until);
  if (q.categories && q.categories.length > 0) s = s.where('category', 'in', [...q.categories]);
  if (q.principal) {
    const p = q.principal.toLowerCase();
    s = s.where((eb) => eb.or([eb('principal_id', '=', p), eb('app_id', '=', p)]));
  }
  if (q.resourceGroup) s = s.where('resource_group', '=', q.resourceGroup.toLowerCase());
  if (q.subscriptionId) s = s.where('subscription_id', '=', q.subscriptionId.toLowerCase());
  if (q.resourceId) s = s.where('scope_key', '=', q.resourceId.replace(/\/+$/, '').toLowerCase());
  if (q.resourcePrefix) s = s.where(underScope(q.resourcePrefix));
  if (q.correlationId) s = s.where('correlation_id', '=', q.correlationId);
  if (q.status === 'succeeded') s = s.where('result', '=', 'succeeded');
  else if (q.status === 'denied') s = s.where('result', '=', 'denied');
  else if (q.status === 'failed') s = s.where('result', 'in', ['failed', 'denied']);
  if (order === 'asc' && q.after !== undefined) s = s.where('seq', '>', q.after);
  if (order === 'desc' && q.before !== undefined) s = s.where('seq', '<', q.before);
  const rows = await s.orderBy('seq', order).limit(limit + 1).execute();
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page[page.length - 1];
  // asc pages always hand back a cursor (a follower polls from it); desc only when older events remain.
  const next = order === 'asc' ? (last?.seq ?? q.after) : more ? last?.seq : undefined;
  return { events: page.map(toEvent), next };
}

/**
 * Who used what, where: counts of activity and data-access events per (principal, action, scope, outcome) in a
 * window — the access review reads this instead of every event.
 */
export async function usage(db: Db, q: { since: number; until: number; principalId?: string | undefined }): Promise<UsageRow[]> {
  let s = db
    .selectFrom('audit_events')
    .select((eb) => [
      'principal_id',
      'category',
      'operation',
      'scope_key',
      'result',
      'http_status',
      eb.fn.min('scope').as('scope'),
      eb.fn.sum<number>('repeats').as('n'),
      eb.fn.max('at').as('last_at'),
    ])
    .where('category', 'in', ['activity', 'data'])
    .where('principal_id', 'is not', null)
    .where('scope_key', 'is not', null)
    .where('at', '>=', q.since)
    .where('at', '<=', q.until);
  if (q.principalId) s = s.where('principal_id', '=', q.principalId.toLowerCase());
  const rows = await s.groupBy(['principal_id', 'category', 'operation', 'scope_key', 'result', 'http_status']).execute();
  return rows.map((r) => ({
    principalId: r.principal_id!,
    category: r.category as 'activity' | 'data',
    operation: r.operation,
    scope: r.scope ?? r.scope_key!,
    result: r.result as AuditResult,
    httpStatus: r.http_status ?? undefined,
    count: Number(r.n),
    lastAt: Number(r.last_at),
  }));
}

function toEvent(r: AuditRow): AuditEvent {
  let details: Record<string, unknown> = {};
  try {
    details = JSON.parse(r.body) as Record<string, unknown>;
  } catch {
    // A damaged body still leaves the indexed columns readable.
  }
  return {
    seq: Number(r.seq),
    id: r.id,
    at: Number(r.at),
    category: r.category as AuditCategory,
    result: r.result as AuditResult,
    httpStatus: r.http_status ?? undefined,
    principalId: r.principal_id ?? undefined,
    appId: r.app_id ?? undefined,
    operation: r.operation,
    scope: r.scope ?? undefined,
    subscriptionId: r.subscription_id ?? undefined,
    resourceGroup: r.resource_group ?? undefined,
    correlationId: r.correlation_id ?? undefined,
    count: Number(r.repeats ?? 1),
    details,
  };
}
