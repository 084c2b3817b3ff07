import type { IncomingMessage, ServerResponse } from 'node:http';
import { KeylessError, isKeylessError } from '../core/errors.js';
import type { IssuedAccessToken, ManagedIdentityRequest, SignInService } from '../signin/index.js';
import type { StoredResource } from '../resources/index.js';
import { imdsErrorBody, imdsTokenBody } from './wire.js';
import { instanceMetadata, IMDS_VERSIONS } from './instance.js';

export interface ImdsDeps {
  signin: SignInService;
  /** Which VM a listener address belongs to (caller binding). */
  hostFor(localAddress: string, localPort: number): string | undefined;
  getResource(key: string): Promise<StoredResource | undefined>;
  /** Throttling hook (throttle.ts): answers and returns true instead of the normal pipeline. */
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
  const bodies = new TokenBodyCache();
  const requests = new TokenRequests();
  // Synchronous up to the token: a cached token (almost every IMDS request) is answered without a promise.
  return function handle(req: IncomingMessage, res: ServerResponse): Promise<void> | void {
    try {
      const hostKey = deps.hostFor(req.socket.localAddress ?? '', req.socket.localPort ?? 0);
      if (!hostKey) throw new KeylessError(400, 'invalid_request', 'Identity not found', { detail: 'no VM is bound to this IMDS address' });
      const target = req.url ?? '/';
      if (target.length > MAX_URL) throw new KeylessError(414, 'invalid_request', 'Request URI too long');
      if (deps.intercept?.(req, res, hostKey)) return;
      // IMDS must never be reached through a proxy; a forwarded request may come from off the machine.
      if (req.headers['x-forwarded-for'] !== undefined) {
        throw new KeylessError(400, 'invalid_request', 'Requests with the X-Forwarded-For header are not allowed', { detail: 'x-forwarded-for present' });
      }
      const q = target.indexOf('?');
      const rawPath = q < 0 ? target : target.slice(0, q);
      const path = rawPath === TOKEN_PATH ? TOKEN_PATH : canonicalPath(rawPath);
      if (path === undefined) throw new KeylessError(404, 'not_found', 'The requested path was not found');
      const query = q < 0 ? '' : target.slice(q + 1);
      if (path !== TOKEN_PATH) return other(req, res, hostKey, path, query);

      requireMetadataHeader(req);
      if (req.method !== 'GET') throw new KeylessError(405, 'invalid_request', `The ${req.method} method is not supported on this path`);
      const input = requests.get(hostKey, query);
      const cached = deps.signin.cachedManagedIdentityToken(input);
      if (cached) return sendToken(res, cached);
      return deps.signin.managedIdentityToken(input).then(
        (t) => sendToken(res, t),
        (e: unknown) => sendError(res, e),
      );
    } catch (e) {
      sendError(res, e);
    }
  };

  function sendToken(res: ServerResponse, token: IssuedAccessToken): void {
    const answer = bodies.get(token);
    res.writeHead(200, answer.headers);
    res.end(answer.body);
  }

  /** Everything but the token: versions and the instance metadata document. */
  async function other(req: IncomingMessage, res: ServerResponse, hostKey: string, path: string, query: string): Promise<void> {
    try {
      if (path === '/metadata/versions') return send(res, 200, { apiVersions: IMDS_VERSIONS });
      if (path === '/metadata/instance' || path.startsWith('/metadata/instance/')) {
        requireMetadataHeader(req);
        const params = singleValued(new URLSearchParams(query));
        const v = params.get('api-version');
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
        if (params.get('format') === 'text') {
          if (!isLeaf) return sendText(res, 200, Object.keys(node as object).join('\n'));
          return sendText(res, 200, String(node));
        }
        if (isLeaf) throw new KeylessError(400, 'invalid_request', 'Leaf nodes can only be requested with format=text');
        return send(res, 200, node);
      }
      throw new KeylessError(404, 'not_found', 'The requested path was not found');
    } catch (e) {
      sendError(res, e);
    }
  }
}

function sendError(res: ServerResponse, e: unknown): void {
  const err = isKeylessError(e) ? e : new KeylessError(500, 'unknown', 'An unexpected error occurred', { detail: String(e) });
  send(res, err.status, imdsErrorBody(err), err.headers);
}

type QueryParams = { get(name: string): string | undefined };

/**
 * Token requests by (VM, raw query text): a client sends the same query string for as long as it runs, so it
 * is parsed once, and the same request object goes to the sign-in service, which keeps its identity selection
 * against it. Only good parses are kept (a refused one is parsed and refused again), and the map is bounded
 * against a caller cycling through query strings.
 */
class TokenRequests {
  // Per VM, then per query: the VM's key is one long string object reused by every request (its hash is kept).
  private readonly byHost = new Map<string, Map<string, ManagedIdentityRequest>>();
  private size = 0;

  get(hostKey: string, query: string): ManagedIdentityRequest {
    let entries = this.byHost.get(hostKey);
    const hit = entries?.get(query);
    if (hit) return hit;
    const params = singleValued(new URLSearchParams(query));
    if (!params.get('api-version')) throw new KeylessError(400, 'invalid_request', "Required query variable 'api-version' is missing");
    const resource = params.get('resource');
    if (!resource) throw new KeylessError(400, 'invalid_request', "Required query variable 'resource' is missing");
    const input: ManagedIdentityRequest = {
      hostKey,
      resource,
      endpoint: 'imds',
      selector: { clientId: params.get('client_id'), objectId: params.get('object_id'), resourceId: params.get('msi_res_id') ?? params.get('mi_res_id') },
    };
    if (this.size >= 1_000) {
      this.byHost.clear();
      this.size = 0;
      entries = undefined;
    }
    if (!entries) this.byHost.set(hostKey, (entries = new Map()));
    entries.set(query, input);
    this.size++;
    return input;
  }
}

/**
 * The serialized token answer and its headers, kept per token: a cached token is asked for again and again, and its body only
 * changes when `expires_in` (which counts down) moves to the next second. The access token string is the key:
 * it fixes every other field (the sign-in cache issues one per identity and exact resource string).
 */
class TokenBodyCache {
  private readonly entries = new Map<string, { expiresIn: number; body: Buffer; headers: string[] }>();

  get(t: IssuedAccessToken): { body: Buffer; headers: string[] } {
    const hit = this.entries.get(t.accessToken);
    if (hit && hit.expiresIn === t.expiresIn) return hit;
    const body = Buffer.from(JSON.stringify(imdsTokenBody(t)), 'utf8');
    // Tokens are reissued at half-life: entries for replaced tokens go when the map is full.
    if (!hit && this.entries.size >= 5_000) this.entries.clear();
    // The headers go with the body (Node reads the array and does not keep it).
    const entry = { expiresIn: t.expiresIn, body, headers: ['Content-Type', JSON_TYPE, 'Content-Length', String(body.length), 'Server', SERVER] };
    this.entries.set(t.accessToken, entry);
    return entry;
  }
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

function singleValued(params: URLSearchParams): QueryParams {
  const seen = new Map<string, string>();
  for (const [k, v] of params) {
    const key = k.toLowerCase();
    if (seen.has(key)) throw new KeylessError(400, 'invalid_request', `Query parameter '${k}' was specified more than once`);
    seen.set(key, v);
  }
  return { get: (n) => seen.get(n) };
}

const JSON_TYPE = 'application/json; charset=utf-8';
const SERVER = 'IMDS/150.870.65.1854';

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': JSON_TYPE, 'Content-Length': Buffer.byteLength(text), Server: SERVER, ...headers });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
