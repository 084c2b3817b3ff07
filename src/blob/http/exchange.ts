import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KeylessError } from '../../core/errors.js';
import type { BlobPrincipal } from '../auth/authenticate.js';
import type { BlobDecision } from '../authorize.js';
import type { StorageAccount } from '../domain/accounts.js';
import { xmlExtras } from '../errors.js';
import type { OperationSpec } from '../operations.js';
import { errorXml } from '../xml.js';
import type { BlobTarget } from './target.js';

/** The service version the SDKs this was built against speak; echoed when a request names none. */
export const DEFAULT_VERSION = '2026-04-06';
const SERVER = 'Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0';

/** One request on its way through the pipeline, and what each step learned about it. */
export class Exchange {
  readonly requestId = randomUUID();
  readonly version: string;
  target?: BlobTarget;
  account?: StorageAccount;
  op?: OperationSpec;
  principal?: BlobPrincipal;
  decision?: BlobDecision;
  /** Set once headers are out; later failures can only cut the connection. */
  committed = false;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly now: number,
  ) {
    const v = req.headers['x-ms-version'];
    this.version = (Array.isArray(v) ? v[0] : v) || DEFAULT_VERSION;
  }

  get isHead(): boolean {
    return this.req.method === 'HEAD';
  }

  header(name: string): string | undefined {
    const v = this.req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  }

  /** Headers on every response: ids, version, date, server. */
  private base(): Record<string, string> {
    const h: Record<string, string> = {
      'x-ms-request-id': this.requestId,
      'x-ms-version': this.version,
      Date: new Date(this.now).toUTCString(),
      Server: SERVER,
    };
    const client = this.header('x-ms-client-request-id');
    if (client !== undefined) h['x-ms-client-request-id'] = client;
    return h;
  }

  /** Writes status and headers; the body follows via `end` or a stream. */
  start(status: number, headers: Record<string, string | number | undefined>, reason?: string): void {
    const all: Record<string, string | number> = { ...this.base() };
    for (const [k, v] of Object.entries(headers)) if (v !== undefined) all[k] = v;
    this.res.statusCode = status;
    if (reason !== undefined) this.res.statusMessage = reason;
    for (const [k, v] of Object.entries(all)) this.res.setHeader(k, v);
    this.committed = true;
  }

  send(status: number, headers: Record<string, string | number | undefined> = {}, body?: string | Buffer): void {
    const payload = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    this.start(status, { ...headers, 'Content-Length': headers['Content-Length'] ?? payload?.length ?? 0 });
    this.res.end(this.isHead ? undefined : payload);
  }

  sendXml(status: number, xml: string, headers: Record<string, string | number | undefined> = {}): void {
    this.send(status, { 'Content-Type': 'application/xml', ...headers }, xml);
  }

  /** A Storage error: XML body (none for HEAD and 304), `x-ms-error-code`, and the message as reason phrase. */
  sendError(e: KeylessError): void {
    const headers: Record<string, string | number> = { ...e.headers, 'x-ms-error-code': e.code };
    if (e.status === 304) {
      this.start(304, headers);
      this.res.end();
      return;
    }
    const body = Buffer.from(errorXml(e.code, e.message, xmlExtras(e), this.requestId, this.now), 'utf8');
    this.start(e.status, { ...headers, 'Content-Type': 'application/xml', 'Content-Length': body.length }, e.message);
    this.res.end(this.isHead ? undefined : body);
  }
}
