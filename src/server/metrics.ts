import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { Gauge, Registry } from 'prom-client';
import { isAuditOnly, type AccessCheck, type AccessControl, type AccessResult } from '../core/access.js';
import { notedRequestId } from '../core/request-id.js';
import { CellCounter, CellHistogram, type HistogramCell } from './metric-cells.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

const METHODS = new Set(['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE', 'OPTIONS']);
const MAX_LOGGED_PATH = 512;

/**
 * Keyless's Prometheus metrics, in a Registry of their own (not prom-client's global one: tests run several
 * servers in one process, and an embedding application keeps its own metrics apart).
 *
 * - keyless_tokens_issued_total{endpoint,kind,result} — every token request (cache hits included), success or failure;
 * - keyless_token_cache_hits_total — managed-identity tokens served from the per-(identity, audience) cache;
 * - keyless_authz_decisions_total{surface,result} — allowed/denied as the surface enforced it, and `audit-denied`
 *   for a refusal that `--authz audit` let through (neither allowed nor enforced: what enforce mode would refuse);
 * - keyless_http_request_duration_seconds{surface,method,status} — per surface, timed around its handler;
 * - keyless_audit_events_total{category,result}, keyless_audit_events_dropped — the audit trail's own health.
 *
 * Labels never carry principals, resources or paths: cardinality stays bounded and nothing identifying leaks.
 */
export class KeylessMetrics {
  readonly registry = new Registry();
  private readonly tokens = new CellCounter(
    'keyless_tokens_issued_total',
    'Token requests answered, by endpoint (imds, oauth2-v2 …), kind (managedIdentity, clientCredentials) and result (success, failure).',
    ['endpoint', 'kind', 'result'],
    this.registry,
  );
  private readonly cacheHits = new CellCounter('keyless_token_cache_hits_total', 'Managed-identity tokens served from the token cache instead of being signed.', [], this.registry).cell();
  private readonly decisions = new CellCounter('keyless_authz_decisions_total', 'Authorization decisions by surface and result (allowed, denied as enforced; audit-denied: let through by audit mode).', ['surface', 'result'], this.registry);
  private readonly duration = new CellHistogram(
    'keyless_http_request_duration_seconds',
    'Time from request to response end, by surface, method and status code.',
    ['surface', 'method', 'status'],
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    this.registry,
  );
  private readonly auditEvents = new CellCounter(
    'keyless_audit_events_total',
    'Audit events recorded, by category (signin, activity, data) and result (succeeded, failed, denied).',
    ['category', 'result'],
    this.registry,
  );

  /** `dropped` reads the audit trail's count of events it had to drop (a store that stopped answering). */
  constructor(opts: { auditDropped?: () => number } = {}) {
    const dropped = opts.auditDropped;
    if (dropped) {
      new Gauge({
        name: 'keyless_audit_events_dropped',
        help: 'Audit events dropped because the store could not take them.',
        registers: [this.registry],
        collect() {
          this.set(dropped());
        },
      });
    }
  }

  /** SignInService.onSignIn listener. */
  signIn(e: { endpoint: string; kind: string; success: boolean; cached?: boolean | undefined }): void {
    this.tokens.inc(e.endpoint, e.kind, e.success ? 'success' : 'failure');
    if (e.cached === true) this.cacheHits.value++;
  }

  /** `auditOnly`: allowed only because authorization runs in audit mode. */
  decision(surface: string, allowed: boolean, auditOnly = false): void {
    this.decisions.inc(surface, !allowed ? 'denied' : auditOnly ? 'audit-denied' : 'allowed');
  }

  auditEvent(category: string, result: string): void {
    this.auditEvents.inc(category, result);
  }

  /** An AccessControl that counts each check under `surface` (for surfaces that do not report decisions themselves). */
  countingAccess(access: AccessControl, surface: string): AccessControl {
    return {
      get mode() {
        return access.mode;
      },
      check: (c: AccessCheck): AccessResult => {
        const r = access.check(c);
        this.decision(surface, r.allowed, isAuditOnly(r));
        return r;
      },
      visibleSubscriptions: (p: string) => access.visibleSubscriptions(p),
    };
  }

  /**
   * Wraps a surface's handler: times it into the histogram and writes one structured log line per request with
   * its request id — the surface's own `x-ms-request-id` when it sets one, else one generated here (and sent,
   * when `setRequestId`; IMDS does not send one on Azure, so it is logged only).
   */
  instrument(surface: string, handler: Handler, log: Logger, opts: { setRequestId?: boolean } = {}): (req: IncomingMessage, res: ServerResponse) => void {
    const setRequestId = opts.setRequestId ?? true;
    // This surface's histogram cells by method and status, found once each.
    const cells = new Map<string, Map<number, HistogramCell>>();
    const cellFor = (rawMethod: string | undefined, status: number): HistogramCell => {
      const method = rawMethod !== undefined && METHODS.has(rawMethod) ? rawMethod : 'OTHER';
      let byStatus = cells.get(method);
      if (!byStatus) cells.set(method, (byStatus = new Map()));
      let cell = byStatus.get(status);
      if (!cell) byStatus.set(status, (cell = this.duration.cell(surface, method, String(status))));
      return cell;
    };
    const done = (req: IncomingMessage, res: ServerResponse, start: bigint, generated: string | undefined, logging: boolean): void => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      cellFor(req.method, res.statusCode).observe(seconds);
      if (!logging) return;
      const requestId = notedRequestId(res) ?? headerValue(res.getHeader('x-ms-request-id')) ?? generated;
      const correlationId = headerValue(res.getHeader('x-ms-correlation-request-id'));
      log.info(
        {
          reqId: requestId,
          ...(correlationId && correlationId !== requestId ? { correlationId } : {}),
          surface,
          method: req.method,
          // Never the query string: it can carry a SAS signature or a client secret.
          path: (req.url ?? '').split('?')[0]!.slice(0, MAX_LOGGED_PATH),
          status: res.statusCode,
          ms: Math.round(seconds * 1e6) / 1e3,
        },
        'request',
      );
    };
    const failed = (req: IncomingMessage, res: ServerResponse, e: unknown, generated: string | undefined): void => {
      log.error({ surface, err: String(e) }, 'unhandled error in handler');
      if (!res.headersSent) {
        res.statusCode = 500;
        if (!setRequestId) res.setHeader('x-ms-request-id', generated ?? randomUUID());
        res.end();
      } else res.destroy();
    };
    // Timed now if the response has been answered, else when it finishes.
    const timeAtEnd = (req: IncomingMessage, res: ServerResponse, start: bigint, generated: string | undefined, logging: boolean): void => {
      if (res.writableEnded) done(req, res, start, generated, logging);
      else res.once('finish', () => done(req, res, start, generated, logging));
    };
    return (req, res) => {
      const start = process.hrtime.bigint();
      // The per-request log line and its id cost ~10 % of a cached IMDS answer (bench/NOTES.md): skip both when
      // nothing would be logged and no id is sent.
      const logging = log.isLevelEnabled('info');
      const generated = setRequestId || logging ? randomUUID() : undefined;
      // Surfaces that set their own id overwrite this one (setHeader, then writeHead merges theirs over it).
      if (setRequestId) res.setHeader('x-ms-request-id', generated!);
      let r: Promise<void> | void;
      try {
        r = handler(req, res);
      } catch (e) {
        failed(req, res, e, generated);
      }
      // A handler that answered before returning (a cached IMDS token) is timed to its end() call: no listener
      // to add and remove on the hottest path. Anything still running is timed to the response's 'finish'.
      if (!(r! instanceof Promise)) return timeAtEnd(req, res, start, generated, logging);
      // A handler that has answered by the time its promise settles (an IMDS cache miss) is timed then, too: a
      // 'finish' listener on some responses and not others leaves Node's emitter and stream code polymorphic,
      // which slowed the synchronous answers that follow (bench/NOTES.md, "Answering late").
      r.then(
        () => timeAtEnd(req, res, start, generated, logging),
        (e: unknown) => failed(req, res, e, generated),
      );
    };
  }

  /**
   * `instrument` for each surface of the dispatcher's handler table, labelled with its key. Surfaces in
   * `ownRequestIds` set x-ms-request-id on every answer themselves (one less header to merge on their hot path).
   */
  instrumentAll<K extends string>(
    handlers: Partial<Record<K, Handler>>,
    log: Logger,
    opts: { ownRequestIds?: readonly NoInfer<K>[] } = {},
  ): Partial<Record<K, (req: IncomingMessage, res: ServerResponse) => void>> {
    const out: Partial<Record<K, (req: IncomingMessage, res: ServerResponse) => void>> = {};
    for (const [surface, h] of Object.entries(handlers) as [K, Handler | undefined][]) {
      if (h) out[surface] = this.instrument(surface, h, log, { setRequestId: !opts.ownRequestIds?.includes(surface) });
    }
    return out;
  }

  /** `GET /metrics` in the Prometheus text format. */
  async serve(_req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await this.registry.metrics();
    res.writeHead(200, { 'Content-Type': this.registry.contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
    res.end(text);
  }

  /** True for the metrics path on the ops surface. */
  static isMetricsRequest(req: IncomingMessage): boolean {
    return req.method === 'GET' && (req.url ?? '').split('?')[0]!.replace(/\/+$/, '') === '/metrics';
  }
}

function headerValue(v: number | string | string[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v[0] : String(v);
}
