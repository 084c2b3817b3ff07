import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { timeOrderedGuid } from '../core/ids.js';
import { boundedMemo } from '../core/memo.js';
import { tryParseScope } from '../core/scope.js';
import type { Store } from '../store/index.js';
import { insertEvents, purgeBefore, queryEvents, usage, type NewAuditRow } from './repository.js';
import { scrub, scrubText } from './scrub.js';
import type { ActivityInput, AuditPage, AuditQuery, AuditResult, DataAccessInput, SignInInput, UsageRow } from './types.js';

export interface AuditTrailOptions {
  /** Days events are kept; older ones are purged periodically. 0 keeps everything. */
  retentionDays: number;
  /** How often the queue is written (default 100 ms). */
  flushIntervalMs?: number;
  /** How often the purge runs (default hourly). */
  purgeIntervalMs?: number;
  log?: Logger;
}

/** Beyond this many unwritten events (a store that stopped answering) the oldest are dropped, and counted. */
const MAX_QUEUE = 50_000;
/** Written at once when the queue grows this long, without waiting for the timer. */
const EAGER_FLUSH = 1_000;

/** Token claims worth keeping: who and how, never the token itself (which is not in the claims anyway). */
const KEPT_CLAIMS = ['aud', 'iss', 'iat', 'nbf', 'exp', 'ver', 'appid', 'azp', 'appidacr', 'azpacr', 'idtyp', 'oid', 'sub', 'tid', 'xms_mirid'];
const CLAIM_NAMES: Record<string, string> = {
  oid: 'http://schemas.microsoft.com/identity/claims/objectidentifier',
  tid: 'http://schemas.microsoft.com/identity/claims/tenantid',
};

/**
 * The audit trail: sign-in, activity and data-access events, written to the store in batches off the request
 * path. `record*` only builds a small object and queues it; a timer writes the queue every ~100 ms (and at once
 * when it grows long), and `close()` writes what is left. Readers see their own replica's queue through
 * `flush()`, which every query calls first.
 */
export class AuditTrail {
  private queue: NewAuditRow[] = [];
  /** Granted data-plane rows of the batch being gathered, by what makes two of them the same event. */
  private readonly pending = new Map<string, QueuedRow>();
  /** The granted data-plane request last recorded in this batch, and its row. */
  private lastGranted: { event: DataAccessInput; row: QueuedRow } | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly flushTimer: NodeJS.Timeout;
  private readonly purgeTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Events dropped because the store could not keep up (exported as a metric). */
  dropped = 0;
  private readonly listeners: ((row: NewAuditRow) => void)[] = [];
  /** Data-plane events name the same few scopes over and over. */
  private readonly parseScope = boundedMemo(tryParseScope, 2048);

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly opts: AuditTrailOptions,
  ) {
    this.flushTimer = setInterval(() => void this.flush().catch(() => undefined), opts.flushIntervalMs ?? 100);
    this.flushTimer.unref();
    if (opts.retentionDays > 0) {
      this.purgeTimer = setInterval(() => void this.purge().catch(() => undefined), opts.purgeIntervalMs ?? 3_600_000);
      this.purgeTimer.unref();
    }
  }

  /** Called for every event as it is queued (metrics count from here). */
  onRecord(listener: (row: NewAuditRow) => void): void {
    this.listeners.push(listener);
  }

  signIn(e: SignInInput): void {
    const host = e.hostResourceId ? tryParseScope(e.hostResourceId) : undefined;
    this.enqueue({
      at: e.at,
      category: 'signin',
      result: e.success ? 'succeeded' : 'failed',
      http_status: null,
      principal_id: lower(e.principalId),
      app_id: lower(e.appId),
      operation: e.endpoint,
      scope: host?.id ?? null,
      subscription_id: lower(host?.subscriptionId),
      resource_group: lower(host?.resourceGroup),
      correlation_id: null,
      details: {
        kind: e.kind,
        endpoint: e.endpoint,
        resource: e.resource,
        callingResourceId: host?.id,
        cached: e.cached === true ? true : undefined,
        failureReason: e.failure,
      },
    });
  }

  activity(e: ActivityInput): void {
    const scope = tryParseScope(e.resourceId);
    // An audit-mode would-be denial did not refuse anything: the request's own outcome stands, flagged below.
    const result: AuditResult = e.denial && e.denial.auditOnly !== true ? 'denied' : e.status < 400 ? 'succeeded' : 'failed';
    this.enqueue({
      at: e.at,
      category: 'activity',
      result,
      http_status: e.status,
      principal_id: lower(e.caller.objectId),
      app_id: lower(e.caller.appId),
      operation: e.operation,
      scope: scope?.id ?? e.resourceId,
      subscription_id: lower(e.subscriptionId ?? scope?.subscriptionId),
      resource_group: lower(e.resourceGroup ?? scope?.resourceGroup),
      correlation_id: e.correlationId,
      details: {
        // Azure's `caller`: the UPN for users, else the principal (object) id — what service principals show.
        caller: typeof e.caller.claims?.['upn'] === 'string' ? e.caller.claims['upn'] : e.caller.objectId,
        claims: keptClaims(e.caller.claims),
        authorizationScope: e.scope,
        resourceGroupName: e.resourceGroup ?? scope?.resourceGroup,
        subscriptionId: e.subscriptionId ?? scope?.subscriptionId,
        method: e.method,
        requestId: e.requestId,
        clientRequestId: e.clientRequestId,
        clientIp: e.clientIp,
        error: e.error,
        summary: e.denial?.summary,
        explanation: e.denial?.explanation,
        auditOnly: e.denial?.auditOnly === true ? true : undefined,
      },
    });
  }

  dataAccess(e: DataAccessInput): void {
    const at = this.clock.now();
    // A granted request identical to one already waiting in this batch (same caller, action, scope, status and
    // reason) is counted on that row: a client reading one secret in a loop would otherwise cost a row per read.
    // Denials are never folded; each keeps its own explanation.
    const granted = e.allowed && e.status < 400 && e.auditOnly !== true;
    // The request just before is the likeliest twin: compared field by field, it costs no key string.
    const last = this.lastGranted;
    const twin = granted && last !== undefined && sameGrantedRequest(last.event, e) ? last.row : undefined;
    const key = granted && twin === undefined ? `${e.surface}\u0000${e.principalId}\u0000${e.appId}\u0000${e.via}\u0000${e.action}\u0000${e.scope}\u0000${e.status}\u0000${e.summary ?? ''}` : undefined;
    const same = twin ?? (key === undefined ? undefined : this.pending.get(key));
    if (same && !this.closed) {
      if (twin === undefined) this.lastGranted = { event: e, row: same };
      same.repeats = (same.repeats ?? 1) + 1;
      same.details.lastAt = at;
      for (const l of this.listeners) l(same);
      return;
    }
    const scope = this.parseScope(e.scope);
    const result: AuditResult = !e.allowed ? 'denied' : e.status < 400 ? 'succeeded' : 'failed';
    const row = this.enqueue({
      at,
      category: 'data',
      result,
      http_status: e.status,
      principal_id: lower(e.principalId),
      app_id: lower(e.appId),
      operation: e.action,
      scope: scope?.id ?? e.scope,
      subscription_id: lower(scope?.subscriptionId),
      resource_group: lower(scope?.resourceGroup),
      correlation_id: null,
      details: {
        surface: e.surface,
        via: e.via,
        allowed: e.allowed,
        summary: e.summary,
        // Allowed requests keep the one-line reason; the full trace is worth its size only for denials, and for
        // what audit mode let through in their place.
        explanation: e.allowed && e.auditOnly !== true ? undefined : e.explanation,
        auditOnly: e.auditOnly === true ? true : undefined,
      },
    });
    if (key !== undefined && row) {
      this.pending.set(key, row);
      this.lastGranted = { event: e, row };
    }
  }

  /** Writes everything queued so far (and waits for writes already under way). */
  async flush(): Promise<void> {
    const batch = this.queue;
    if (batch.length > 0) {
      this.queue = [];
      this.pending.clear();
      this.lastGranted = undefined;
      this.writing = this.writing.then(() => this.write(batch));
    }
    await this.writing;
  }

  async query(q: AuditQuery): Promise<AuditPage> {
    await this.flush();
    return queryEvents(this.store.db, q);
  }

  async usage(q: { since: number; until: number; principalId?: string | undefined }): Promise<UsageRow[]> {
    await this.flush();
    return usage(this.store.db, q);
  }

  /** Drops events older than the retention period; returns how many. */
  async purge(): Promise<number> {
    if (this.opts.retentionDays <= 0 || this.closed) return 0;
    await this.flush();
    const n = await purgeBefore(this.store.db, this.clock.now() - this.opts.retentionDays * 86_400_000);
    if (n > 0) this.opts.log?.info({ audit: { purged: n, retentionDays: this.opts.retentionDays } }, 'audit events purged');
    return n;
  }

  /** Stops the timers and writes what is queued. Call before the store closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.flushTimer);
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    await this.flush().catch(() => undefined);
  }

  private enqueue(row: Omit<NewAuditRow, 'id' | 'body' | 'scope_key'> & { details: Record<string, unknown> }): QueuedRow | undefined {
    const { details, ...cols } = row;
    const full: QueuedRow = { ...cols, id: timeOrderedGuid(row.at), scope_key: cols.scope ? cols.scope.toLowerCase() : null, body: '', repeats: 1, details };
    for (const l of this.listeners) l(full);
    if (this.closed) return undefined;
    if (this.queue.length >= MAX_QUEUE) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(full);
    if (this.queue.length >= EAGER_FLUSH) void this.flush().catch(() => undefined);
    return full;
  }

  /** Serializes and scrubs here, on the timer, so the request that caused the event never pays for it. */
  private async write(batch: NewAuditRow[]): Promise<void> {
    const rows = batch.map((r) => {
      const { details, ...cols } = r as NewAuditRow & { details?: Record<string, unknown> };
      return {
        ...cols,
        operation: scrubText(cols.operation),
        scope: cols.scope ? scrubText(cols.scope) : null,
        scope_key: cols.scope_key ? scrubText(cols.scope_key) : null,
        body: JSON.stringify(scrub(details ?? {})),
      };
    });
    try {
      await insertEvents(this.store.db, rows);
    } catch (e) {
      if (this.closed) {
        this.dropped += rows.length;
        return;
      }
      // Keep them for the next round unless the store has been failing long enough to fill the queue.
      const room = MAX_QUEUE - this.queue.length;
      const keep = batch.slice(Math.max(0, batch.length - room));
      this.dropped += batch.length - keep.length;
      this.queue = [...keep, ...this.queue];
      this.opts.log?.error({ err: String(e), queued: this.queue.length }, 'audit write failed; will retry');
    }
  }
}

type QueuedRow = NewAuditRow & { details: Record<string, unknown> };

const lower = (s: string | undefined | null): string | null => (s ? s.toLowerCase() : null);

function keptClaims(claims: Record<string, unknown> | undefined): Record<string, string> | undefined {
  if (!claims) return undefined;
  const out: Record<string, string> = {};
  for (const k of KEPT_CLAIMS) {
    const v = claims[k];
    if (v === undefined || v === null || typeof v === 'object') continue;
    out[CLAIM_NAMES[k] ?? k] = String(v);
  }
  return out;
}

/** The fields that make two granted requests one audit row (the same as the batch key's). */
function sameGrantedRequest(a: DataAccessInput, b: DataAccessInput): boolean {
  return (
    a.scope === b.scope &&
    a.principalId === b.principalId &&
    a.action === b.action &&
    a.status === b.status &&
    a.summary === b.summary &&
    a.appId === b.appId &&
    a.via === b.via &&
    a.surface === b.surface
  );
}
