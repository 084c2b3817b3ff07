import type { IncomingMessage, ServerResponse } from 'node:http';
import { boundedMemo } from '../core/memo.js';

export type Surface = 'arm' | 'login' | 'keyvault' | 'blob' | 'portal' | 'ops';
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const LOGIN_FIRST = new Set(['adfs', 'common', 'organizations', 'consumers']);
const ARM_FIRST = new Set(['subscriptions', 'providers', 'metadata', 'tenants']);
const OPS_FIRST = new Set(['health', 'metrics', 'keyless']);
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Entra endpoint shapes under any tenant segment (so an unknown tenant still gets an AADSTS error). */
const LOGIN_PATH = /^\/[^/]+\/(oauth2\/(v2\.0\/)?token|(v2\.0\/)?\.well-known\/openid-configuration|discovery\/(v2\.0\/)?keys)\/?$/i;

/**
 * One HTTPS listener serves every surface. Named hosts route by name (`<vault>.vault.<suffix>`,
 * `management.<suffix>` …); plain hosts (localhost, 127.0.0.1) route by the first path segment.
 */
export function createDispatcher(opts: { dnsSuffix: string; handlers: Partial<Record<Surface, Handler>> }): Handler {
  const suffix = '.' + opts.dnsSuffix.toLowerCase();
  // Named hosts are few and every request names one: their surface is worked out once (bounded).
  const namedHost = boundedMemo((rawHost) => namedSurface(rawHost.toLowerCase().replace(/:\d+$/, '')), 1_000);
  return (req, res) => {
    const surface = pick(req);
    const h = surface ? opts.handlers[surface] : undefined;
    if (!h) {
      const body = JSON.stringify({ error: { code: 'NotFound', message: `Nothing is served at ${req.headers.host ?? ''}${(req.url ?? '').split('?')[0]}` } });
      res.writeHead(404, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    h(req, res);
  };

  function pick(req: IncomingMessage): Surface | undefined {
    const named = namedHost(req.headers.host ?? '');
    if (named) return named;
    const path = (req.url ?? '/').split('?')[0]!;
    const first = path.replace(/^\/+/, '').split('/')[0]!.toLowerCase();
    if (ARM_FIRST.has(first)) return 'arm';
    if (LOGIN_FIRST.has(first) || GUID.test(first) || first === opts.dnsSuffix.toLowerCase() || LOGIN_PATH.test(path)) return 'login';
    if (OPS_FIRST.has(first)) return 'ops';
    if (first === 'portal' || first === '') return 'portal';
    return 'blob';
  }

  /** The surface a host name under the DNS suffix selects by itself, if any. */
  function namedSurface(host: string): Surface | undefined {
    if (host.endsWith(suffix)) {
      const label = host.slice(0, -suffix.length);
      if (label.endsWith('.vault')) return 'keyvault';
      if (label.endsWith('.blob')) return 'blob';
      if (label === 'management') return 'arm';
      if (label === 'login') return 'login';
      if (label === 'portal') return 'portal';
    }
    return undefined;
  }
}
