import type { AccessControl } from '../core/access.js';
import type { Caller } from '../core/caller.js';
import { KeylessError } from '../core/errors.js';
import { tryParseScope } from '../core/scope.js';
import type { OpsRoute } from '../server/ops.js';
import { reviewAccess, type AccessReviewDeps } from './access-review.js';
import { MAX_PAGE } from './repository.js';
import { parseTimeBound } from './time.js';
import type { AuditTrail } from './trail.js';
import { AUDIT_CATEGORIES, type AuditCategory, type AuditEvent } from './types.js';

/** Reading events is reading the activity log (Reader has it); sign-ins are tenant-wide, so subscription-wide. */
export const AUDIT_READ_ACTION = 'Microsoft.Insights/eventtypes/values/read';
export const ASSIGNMENTS_READ_ACTION = 'Microsoft.Authorization/roleAssignments/read';
const DEFAULT_REVIEW_WINDOW = '30d';

export interface AuditOpsDeps {
  trail: AuditTrail;
  access: AccessControl;
  subscriptionId: string;
  now(): number;
  review: AccessReviewDeps;
}

/**
 * The ops surface's share of the audit trail:
 * - `GET /keyless/v1/audit/events` — events with filters and a cursor (`keyless logs`, `--follow` polls `after`);
 * - `GET /keyless/v1/access/review` — granted vs. used, with least-privilege suggestions (`keyless access review`).
 * Both take an ARM bearer token and need read access at the subscription; events are further filtered to the
 * scopes the caller may read.
 */
export function auditOpsRoute(deps: AuditOpsDeps): OpsRoute {
  const subscriptionScope = `/subscriptions/${deps.subscriptionId}`;
  return async (req, ctx) => {
    if (ctx.path === '/keyless/v1/audit/events') {
      if (req.method !== 'GET') throw new KeylessError(405, 'MethodNotAllowed', 'Use GET.');
      const caller = await ctx.authenticate();
      demand(deps.access, caller, AUDIT_READ_ACTION, subscriptionScope);
      return { status: 200, body: await listEvents(deps, caller, ctx.query) };
    }
    if (ctx.path === '/keyless/v1/access/review') {
      if (req.method !== 'GET') throw new KeylessError(405, 'MethodNotAllowed', 'Use GET.');
      const caller = await ctx.authenticate();
      demand(deps.access, caller, ASSIGNMENTS_READ_ACTION, subscriptionScope);
      demand(deps.access, caller, AUDIT_READ_ACTION, subscriptionScope);
      const now = deps.now();
      const since = parseTimeBound(ctx.query.get('since') ?? DEFAULT_REVIEW_WINDOW, now, 'since');
      const until = ctx.query.get('until') ? parseTimeBound(ctx.query.get('until')!, now, 'until') : now;
      return { status: 200, body: await reviewAccess(deps.review, { principal: ctx.query.get('principal') ?? undefined, since, until }) };
    }
    return undefined;
  };

  async function listEvents(d: AuditOpsDeps, caller: Caller, q: URLSearchParams): Promise<{ events: (AuditEvent & { time: string })[]; next: number | undefined }> {
    const now = d.now();
    const categories = q.get('category') ? q.get('category')!.split(',').map((c) => c.trim().toLowerCase()) : undefined;
    for (const c of categories ?? []) if (!AUDIT_CATEGORIES.includes(c as AuditCategory)) throw new KeylessError(400, 'BadRequest', `Unknown category '${c}': use signin, activity or data.`);
    const status = q.get('status')?.toLowerCase();
    if (status !== undefined && status !== 'succeeded' && status !== 'failed' && status !== 'denied') throw new KeylessError(400, 'BadRequest', `Unknown status '${status}': use succeeded, failed or denied.`);
    const order = q.get('order') === 'desc' ? 'desc' : 'asc';
    const cursor = q.get(order === 'asc' ? 'after' : 'before');
    if (cursor !== null && !/^\d+$/.test(cursor)) throw new KeylessError(400, 'BadRequest', 'The cursor must be a number from a previous page.');
    const limit = q.get('limit') ? Number(q.get('limit')) : undefined;
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0 && limit <= MAX_PAGE)) throw new KeylessError(400, 'BadRequest', `limit must be 1..${MAX_PAGE}.`);
    const page = await d.trail.query({
      categories: categories as AuditCategory[] | undefined,
      since: q.get('since') ? parseTimeBound(q.get('since')!, now, 'since') : undefined,
      until: q.get('until') ? parseTimeBound(q.get('until')!, now, 'until') : undefined,
      principal: q.get('principal') ?? undefined,
      resourceGroup: q.get('resourceGroup') ?? undefined,
      resourcePrefix: q.get('resource') ?? undefined,
      correlationId: q.get('correlationId') ?? undefined,
      status: status as 'succeeded' | 'failed' | 'denied' | undefined,
      order,
      ...(cursor !== null ? (order === 'asc' ? { after: Number(cursor) } : { before: Number(cursor) }) : {}),
      limit,
    });
    const readable = new Map<string, boolean>();
    const mayRead = (scope: string | undefined): boolean => {
      // Sign-ins of applications have no resource: they are visible with the subscription-wide right checked above.
      if (!scope || !tryParseScope(scope)) return true;
      const key = scope.toLowerCase();
      let ok = readable.get(key);
      if (ok === undefined) readable.set(key, (ok = d.access.check({ principalId: caller.objectId, action: AUDIT_READ_ACTION, isDataAction: false, scope }).allowed));
      return ok;
    };
    return { events: page.events.filter((e) => mayRead(e.scope)).map((e) => ({ ...e, time: new Date(e.at).toISOString() })), next: page.next };
  }
}

function demand(access: AccessControl, caller: Caller, action: string, scope: string): void {
  const r = access.check({ principalId: caller.objectId, action, isDataAction: false, scope });
  if (!r.allowed) throw new KeylessError(403, 'AuthorizationFailed', `The client '${caller.clientName}' with object id '${caller.objectId}' does not have authorization to perform action '${action}' over scope '${scope}'.`, { extra: { summary: r.summary } });
}
