import type { IncomingMessage, ServerResponse } from 'node:http';
import { KeylessError, isKeylessError } from '../core/errors.js';
import { splitTarget } from '../core/request-target.js';
import type { SignInService } from '../signin/index.js';
import type { StoredResource } from '../resources/index.js';
import { imdsErrorBody, imdsTokenBody } from './wire.js';
import { instanceMetadata, IMDS_VERSIONS } from './instance.js';

export interface ImdsDeps {
  signin: SignInService;
  /** Which VM a listener address belongs to (caller binding). */
  hostFor(localAddress: string, localPort: number): string | undefined;
  getResource(key: string): Promise<StoredResource | undefined>;
  /** Fault injection / throttling hook: may answer instead of the normal pipeline. */
  intercept?(req: IncomingMessage, res: ServerResponse, hostKey: string): boolean;
}

const TOKEN_PATH = '/metadata/identity/oauth2/token';
const MAX_URL = 8 * 1024;

/**
 * The Azure Instance Metadata Service for one machine's worth of VMs. Plain node:http: IMDS is a tiny,
 * hot protocol (clients ask for a token per process start, az per command), so it skips the framework.
 * Pipeline: bind caller → validate (header, proxy, path) → select identity → token → JSON strings.
 */
export function createImdsHandler(deps: ImdsDeps) {
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const hostKey = deps.hostFor(req.socket.localAddress ?? '', req.socket.localPort ?? 0);
      if (!hostKey) throw new KeylessError(400, 'invalid_request', 'Identity not found', { detail: 'no VM is bound to this IMDS address' });
      if ((req.url ?? '').length > MAX_URL) throw new KeylessError(414, 'invalid_request', 'Request URI too long');
      if (deps.intercept?.(req, res, hostKey)) return;
      // IMDS must never be reached through a proxy; a forwarded request may come from off the machine.
      if (req.headers['x-forwarded-for'] !== undefined) {
        throw new KeylessError(400, 'invalid_request', 'Requests with the X-Forwarded-For header are not allowed', { detail: 'x-forwarded-for present' });
      }
      const { path: rawPath, query } = splitTarget(req.url);
      const url = { searchParams: query };
      const path = canonicalPath(rawPath);
      if (path === undefined) throw new KeylessError(404, 'not_found', 'The requested path was not found');

      if (path === TOKEN_PATH) {
        requireMetadataHeader(req);
        if (req.method !== 'GET') throw new KeylessError(405, 'invalid_request', `The ${req.method} method is not supported on this path`);
        const q = singleValued(url.searchParams);
        if (!q.get('api-version')) throw new KeylessError(400, 'invalid_request', "Required query variable 'api-version' is missing");
        const resource = q.get('resource');
        if (!resource) throw new KeylessError(400, 'invalid_request', "Required query variable 'resource' is missing");
        const token = await deps.signin.managedIdentityToken({
          hostKey,
          resource,
          endpoint: 'imds',
          selector: { clientId: q.get('client_id'), objectId: q.get('object_id'), resourceId: q.get('msi_res_id') ?? q.get('mi_res_id') },
        });
        return send(res, 200, imdsTokenBody(token));
      }
      if (path === '/metadata/versions') return send(res, 200, { apiVersions: IMDS_VERSIONS });
      if (path === '/metadata/instance' || path.startsWith('/metadata/instance/')) {
        requireMetadataHeader(req);
        const q = singleValued(url.searchParams);
        const v = q.get('api-version');
        if (!v || !IMDS_VERSIONS.includes(v)) {
          return send(res, 400, {
            error: 'Bad request. api-version is invalid or was not specified in the request. For more information refer to aka.ms/azureimds',
            'newest-versions': IMDS_VERSIONS.slice(-3).reverse(),
          });
        }
        const vm = await deps.getResource(hostKey);
        if (!vm) throw new KeylessError(404, 'not_found', 'The requested VM no longer exists');
        const doc = instanceMetadata(vm);
        const sub = path.slice('/metadata/instance'.length).split('/').filter(Boolean);
        let node: unknown = doc;
        for (const s of sub) {
          node = node && typeof node === 'object' ? (node as Record<string, unknown>)[s] : undefined;
          if (node === undefined) throw new KeylessError(404, 'not_found', 'The requested path was not found');
        }
        const isLeaf = typeof node !== 'object' || node === null;
        if (q.get('format') === 'text') {
          if (!isLeaf) return sendText(res, 200, Object.keys(node as object).join('\n'));
          return sendText(res, 200, String(node));
        }
        if (isLeaf) throw new KeylessError(400, 'invalid_request', 'Leaf nodes can only be requested with format=text');
        return send(res, 200, node);
      }
      throw new KeylessError(404, 'not_found', 'The requested path was not found');
    } catch (e) {
      const err = isKeylessError(e) ? e : new KeylessError(500, 'unknown', 'An unexpected error occurred', { detail: String(e) });
      send(res, err.status, imdsErrorBody(err), err.headers);
    }
  };
}

function requireMetadataHeader(req: IncomingMessage): void {
  // Answered at once and without a token: this is how the SDKs probe for IMDS.
  if (req.headers['metadata'] !== 'true') {
    throw new KeylessError(400, 'invalid_request', 'Required metadata header not specified');
  }
}

/**
 * The path forms real clients send — `/…/token`, `/…/token/` (msal-node), `//…/token/` (env ending in `/`)
 * and msal's lower-cased URL — and nothing looser: encoded dots, backslashes or `..` are refused.
 */
export function canonicalPath(raw: string): string | undefined {
  if (/%|\\|\/\.\.?(\/|$)/.test(raw)) return undefined;
  let p = raw.replace(/^\/{2,}/, '/');
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  if (p.includes('//')) return undefined;
  return p.toLowerCase();
}

function singleValued(params: URLSearchParams): { get(name: string): string | undefined } {
  const seen = new Map<string, string>();
  for (const [k, v] of params) {
    const key = k.toLowerCase();
    if (seen.has(key)) throw new KeylessError(400, 'invalid_request', `Query parameter '${k}' was specified more than once`);
    seen.set(key, v);
  }
  return { get: (n) => seen.get(n) };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), Server: 'IMDS/150.870.65.1854', ...headers });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
