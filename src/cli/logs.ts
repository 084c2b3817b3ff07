import { renderEventLine } from '../audit/render.js';
import type { AuditEvent } from '../audit/types.js';
import type { Connection } from './connection.js';

export interface LogsOptions {
  category?: string;
  principal?: string;
  resourceGroup?: string;
  resource?: string;
  since?: string;
  until?: string;
  status?: string;
  json?: boolean;
  follow?: boolean;
  /** Poll interval for --follow, ms. */
  interval?: number;
}

const PAGE = 500;
const DEFAULT_SINCE = '24h';

/**
 * `keyless logs`: the audit trail, oldest first, one line per event (or one JSON object per line with --json).
 * `--follow` keeps polling from the last cursor until SIGINT.
 */
export async function runLogs(conn: Connection, o: LogsOptions, write: (line: string) => void): Promise<void> {
  const base = new URLSearchParams({ limit: String(PAGE) });
  if (o.category) base.set('category', o.category);
  if (o.principal) base.set('principal', o.principal);
  if (o.resourceGroup) base.set('resourceGroup', o.resourceGroup);
  if (o.resource) base.set('resource', o.resource);
  if (o.status) base.set('status', o.status);
  base.set('since', o.since ?? DEFAULT_SINCE);
  if (o.until && !o.follow) base.set('until', o.until);

  let stopped = false;
  let wake: (() => void) | undefined;
  const stop = () => {
    stopped = true;
    wake?.();
  };
  if (o.follow) process.once('SIGINT', stop);

  let cursor: number | undefined;
  try {
    for (;;) {
      const q = new URLSearchParams(base);
      if (cursor !== undefined) q.set('after', String(cursor));
      const page = (await conn.arm('GET', `/keyless/v1/audit/events?${q}`)) as { events: AuditEvent[]; next?: number };
      for (const e of page.events) write(o.json ? JSON.stringify(e) : renderEventLine(e));
      if (page.next !== undefined) cursor = page.next;
      if (page.events.length === PAGE) continue;
      if (!o.follow || stopped) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, o.interval ?? 1000);
      });
      if (stopped) return;
    }
  } finally {
    process.off('SIGINT', stop);
  }
}
