import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { KeylessError } from '../core/errors.js';
import type { Principal } from '../directory/index.js';
import type { Store } from '../store/index.js';
import type { PrincipalName, SessionInfo } from './api-types.js';
import { portalAssets } from './assets.js';
import { parseCookies, sessionCookie } from './cookies.js';
import { Loopback, type LoopbackTarget } from './loopback.js';
import { shellPage, signInPage } from './pages.js';
import { blobList, forward, opsPathAllowed, secretsList, secretValue, type UpstreamCall } from './proxy.js';
import { csrfMatches, SessionStore, type PortalSession, type Sealer } from './session.js';
import { splitTarget } from '../core/request-target.js';

export interface PortalDeps {
  log: Logger;
  clock: Clock;
  tenantId: string;
  defaultSubscriptionId: string;
  directory: {
    verifyClientSecret(appId: string, secret: string): Promise<Principal | undefined>;
    get(objectId: string): Promise<Principal | undefined>;
  };
  signin: {
    appToken(principal: Principal, resource: string, endpoint: string, clientAuth: 'secret'): Promise<{ accessToken: string; expiresOn: number }>;
    recordFailure(endpoint: string, appId: string | undefined, resource: string | undefined, e: unknown): void;
  };
  /** Token audiences the session's principal gets tokens for, one per surface. */
  audiences: { arm: string; vault: string; storage: string };
  target: LoopbackTarget;
  /** Where sessions live, so every replica on the same store knows them; the CSRF token is sealed by `sealer`. */
  store: Store;
  sealer: Sealer;
  /** Idle timeout (default 30 min). The absolute lifetime is the ARM token's. */
  idleTimeoutSec?: number;
  /** Called with a principal's object id whenever the directory changes it (deleted, credentials changed …). */
  onPrincipalChange?(listener: (objectId: string) => void): void;
}

const BASE = '/portal';
const API = `${BASE}/api`;
const SIGN_IN_ENDPOINT = 'portal';
const MAX_BODY = 1024 * 1024;
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Every portal response: nothing but our own origin may load, frame, or be posted to. */
const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  // not no-referrer: with it, Chromium sends `Origin: null` on form posts, and the origin check needs the origin.
  'Referrer-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const FAVICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#0b5cad"/><circle cx="12" cy="16" r="5.5" fill="none" stroke="#fff" stroke-width="2.6"/><path d="M17.5 16h9M23 16v4M26.5 16v3" stroke="#fff" stroke-width="2.6" stroke-linecap="round"/></svg>';

class PortalError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The portal: a sign-in form, a server-side session per signed-in application, and an API that forwards to
 * Keyless's own surfaces with the session's bearer tokens. The browser never holds a token — only an
 * HttpOnly session cookie — and every mutation needs the session's CSRF token in a header.
 */
export function createPortalApp(deps: PortalDeps): { app: FastifyInstance; close(): void; sessions: SessionStore } {
  const idleSec = deps.idleTimeoutSec ?? 30 * 60;
  const sessions = new SessionStore(deps.store, deps.sealer, deps.clock, { idleMs: idleSec * 1000, maxSessions: 10_000 });
  const loopback = new Loopback(deps.target);
  // A deleted application is signed out at once, not when its session would have expired.
  deps.onPrincipalChange?.((objectId) => {
    void deps.directory
      .get(objectId)
      .then((p) => (p ? undefined : sessions.destroyFor(objectId)))
      .catch((e: unknown) => deps.log.warn({ surface: 'portal', err: String(e) }, 'portal could not sign a removed principal out'));
  });
  // Several Keyless servers on one host share the browser's cookie jar (cookies ignore ports): one name per port.
  const cookieName = `keyless_portal_${deps.target.port}`;

  const app = Fastify({ logger: false, bodyLimit: MAX_BODY, return503OnClosing: false });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, String(body)));

  app.addHook('onSend', async (req, reply, payload) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    if (!reply.hasHeader('Cache-Control')) reply.header('Cache-Control', 'no-store');
    return payload;
  });
  app.setErrorHandler((err, req, reply) => {
    const e = err instanceof PortalError ? err : new PortalError(500, 'InternalServerError', 'The portal failed to handle the request.');
    if (e.status >= 500) deps.log.error({ surface: 'portal', path: req.url.split('?')[0], err: String(err) }, 'portal error');
    return sendError(reply, req, e);
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, req, new PortalError(404, 'NotFound', `Nothing is served at ${req.url.split('?')[0]}`)));

  // --- pages ----------------------------------------------------------------------------------------------
  app.get('/', (_req, reply) => reply.redirect(`${BASE}/`, 303));
  app.get(BASE, (_req, reply) => reply.redirect(`${BASE}/`, 303));
  app.get(`${BASE}/`, async (req, reply) => {
    const found = await sessions.lookup(cookieOf(req));
    if (!('session' in found)) return reply.redirect(`${BASE}/sign-in${found.reason === 'expired' ? '?expired=1' : ''}`, 303);
    return html(reply, 200, shellPage());
  });
  app.get(`${BASE}/sign-in`, (req, reply) => {
    const q = splitTarget(req.url).query;
    const notice = q.has('expired') ? 'Your session expired. Sign in again.' : q.has('signed-out') ? 'You are signed out.' : undefined;
    return html(reply, 200, signInPage({ tenantId: deps.tenantId, ...(notice ? { notice } : {}) }));
  });
  app.post(`${BASE}/sign-in`, async (req, reply) => {
    checkOrigin(req);
    const form = readForm(req);
    const clientId = (form.get('client_id') ?? '').trim().toLowerCase();
    const secret = form.get('client_secret') ?? '';
    const wantsJson = (req.headers.accept ?? '').includes('application/json') && !(req.headers.accept ?? '').includes('text/html');
    const principal = clientId && secret ? await deps.directory.verifyClientSecret(clientId, secret) : undefined;
    if (!principal) {
      deps.signin.recordFailure(SIGN_IN_ENDPOINT, clientId || undefined, deps.audiences.arm, new KeylessError(401, 'invalid_client', 'The client id or client secret given at the portal sign-in is not valid.'));
      const message = 'Sign-in failed: the client ID or client secret is not valid.';
      if (wantsJson) return json(reply, 401, { error: { code: 'InvalidClientCredentials', message } });
      return html(reply, 401, signInPage({ tenantId: deps.tenantId, error: message, clientId }));
    }
    let arm: { accessToken: string; expiresOn: number };
    try {
      arm = await deps.signin.appToken(principal, deps.audiences.arm, SIGN_IN_ENDPOINT, 'secret');
    } catch (e) {
      deps.log.warn({ surface: 'portal', err: String(e) }, 'portal sign-in could not mint an ARM token');
      throw new PortalError(500, 'TokenIssuanceFailed', 'Signed in, but no ARM token could be issued for this application.');
    }
    const { id, session } = await sessions.create(
      { objectId: principal.objectId, appId: principal.appId, displayName: principal.displayName, tenantId: principal.tenantId },
      { audience: deps.audiences.arm, token: arm.accessToken, exp: arm.expiresOn },
    );
    reply.header('Set-Cookie', sessionCookie(cookieName, id, { path: BASE, maxAge: (session.expiresAt - deps.clock.now()) / 1000 }));
    if (wantsJson) return json(reply, 200, sessionInfo(session));
    return reply.redirect(`${BASE}/`, 303);
  });
  app.post(`${BASE}/sign-out`, async (req, reply) => {
    checkOrigin(req);
    const id = cookieOf(req);
    const found = await sessions.lookup(id);
    // Signing out is a mutation too: without the CSRF token another site could sign a user out.
    if ('session' in found) {
      if (!csrfMatches(found.session, headerOf(req, 'x-csrf-token'))) throw csrfError();
      await sessions.destroy(id);
    }
    reply.header('Set-Cookie', sessionCookie(cookieName, '', { path: BASE, maxAge: 0 }));
    return reply.status(204).send();
  });

  // --- assets ---------------------------------------------------------------------------------------------
  app.get(`${BASE}/favicon.svg`, (_req, reply) => reply.header('Cache-Control', 'max-age=86400').type('image/svg+xml').send(FAVICON));
  app.get(`${BASE}/assets/:file`, async (req, reply) => {
    const file = (req.params as { file: string }).file;
    const assets = await portalAssets();
    const a = assets.get(file);
    if (!a) throw new PortalError(404, 'NotFound', `No asset ${file}`);
    reply.header('Cache-Control', 'no-cache').header('ETag', a.etag);
    if (req.headers['if-none-match'] === a.etag) return reply.status(304).send();
    return reply.status(200).type(a.contentType).send(a.body);
  });

  // --- API ------------------------------------------------------------------------------------------------
  const call = (s: PortalSession): UpstreamCall => ({
    loopback,
    token: (audience) => sessions.token(s, audience, () => mint(s, audience)),
    audiences: deps.audiences,
    requestId: randomUUID(),
  });

  app.get(`${API}/session`, async (req, reply) => json(reply, 200, sessionInfo(await requireSession(req))));

  app.all(`${API}/arm/*`, async (req, reply) => {
    const s = await requireSession(req);
    const target = req.url.slice(`${API}/arm`.length);
    if (!target.startsWith('/') || target.startsWith('//')) throw new PortalError(400, 'BadRequest', 'An ARM path must start with a single /.');
    const r = await forward(call(s), { kind: 'arm' }, deps.audiences.arm, req.method, target, typeof req.body === 'string' && req.body !== '' ? req.body : undefined);
    return passThrough(reply, r);
  });

  app.get(`${API}/ops/*`, async (req, reply) => {
    const s = await requireSession(req);
    const target = req.url.slice(`${API}/ops`.length);
    if (!opsPathAllowed(target)) throw new PortalError(404, 'NotFound', `The portal does not forward ${target.split('?')[0]}`);
    return passThrough(reply, await forward(call(s), { kind: 'ops' }, deps.audiences.arm, 'GET', target, undefined));
  });

  app.get(`${API}/vaults/:vault/secrets`, async (req, reply) => {
    const s = await requireSession(req);
    const r = await secretsList(call(s), vaultName(req));
    return 'error' in r ? passThrough(reply, r.error) : json(reply, 200, { value: r.value });
  });

  // A POST, so a value is only ever fetched by a deliberate click (with the CSRF token), never by a prefetch.
  app.post(`${API}/vaults/:vault/secrets/:name/reveal`, async (req, reply) => {
    const s = await requireSession(req);
    const name = (req.params as { name: string }).name;
    if (!/^[0-9a-zA-Z-]{1,127}$/.test(name)) throw new PortalError(400, 'BadParameter', 'Secret names are 1-127 letters, digits and dashes.');
    const r = await secretValue(call(s), vaultName(req), name);
    return 'error' in r ? passThrough(reply, r.error) : json(reply, 200, r.value);
  });

  app.get(`${API}/storage/:account/containers/:container/blobs`, async (req, reply) => {
    const s = await requireSession(req);
    const { account, container } = req.params as { account: string; container: string };
    if (!/^[a-z0-9]{3,24}$/.test(account)) throw new PortalError(400, 'InvalidAccountName', 'Storage account names are 3-24 lower-case letters and digits.');
    if (!/^[a-z0-9$](?:[a-z0-9]|-(?=[a-z0-9])){0,62}$/.test(container)) throw new PortalError(400, 'InvalidContainerName', 'That is not a valid container name.');
    const r = await blobList(call(s), account, container);
    return 'error' in r ? passThrough(reply, r.error) : json(reply, 200, r.value);
  });

  // Display names for the principal ids the portal shows (Azure's portal asks Microsoft Graph for these).
  app.get(`${API}/directory/principals`, async (req, reply) => {
    await requireSession(req);
    const ids = (splitTarget(req.url).query.get('ids') ?? '')
      .split(',')
      .map((x) => x.trim().toLowerCase())
      .filter((x) => /^[0-9a-f-]{36}$/.test(x))
      .slice(0, 500);
    const out: PrincipalName[] = [];
    for (const id of new Set(ids)) {
      const p = await deps.directory.get(id);
      if (p) out.push({ objectId: p.objectId, displayName: p.displayName, kind: p.kind, appId: p.appId, resourceId: p.resourceId });
    }
    return json(reply, 200, { value: out });
  });

  app.all(`${API}/*`, async (req) => {
    await requireSession(req);
    throw new PortalError(404, 'NotFound', `No portal API at ${req.url.split('?')[0]}`);
  });

  // --- helpers --------------------------------------------------------------------------------------------
  async function mint(s: PortalSession, audience: string): Promise<{ token: string; exp: number }> {
    const principal: Principal = { ...s.principal, kind: 'Application', resourceId: null, createdAt: s.createdAt };
    const t = await deps.signin.appToken(principal, audience, SIGN_IN_ENDPOINT, 'secret');
    // A data-plane token never outlives the session that asked for it.
    return { token: t.accessToken, exp: Math.min(t.expiresOn, Math.floor(s.expiresAt / 1000)) };
  }

  async function requireSession(req: FastifyRequest): Promise<PortalSession> {
    const found = await sessions.lookup(cookieOf(req));
    if (!('session' in found)) {
      throw found.reason === 'expired'
        ? new PortalError(401, 'SessionExpired', 'Your portal session expired. Sign in again.')
        : new PortalError(401, 'SessionRequired', 'Sign in to the portal first.');
    }
    if (!SAFE.has(req.method.toUpperCase())) {
      checkOrigin(req);
      if (!csrfMatches(found.session, headerOf(req, 'x-csrf-token'))) throw csrfError();
    }
    return found.session;
  }

  function sessionInfo(s: PortalSession): SessionInfo {
    return {
      principal: { objectId: s.principal.objectId, appId: s.principal.appId, displayName: s.principal.displayName },
      tenantId: deps.tenantId,
      defaultSubscriptionId: deps.defaultSubscriptionId,
      csrfToken: s.csrf,
      expiresAt: s.expiresAt,
      idleTimeoutSec: idleSec,
      dnsSuffix: deps.target.dnsSuffix,
    };
  }

  function cookieOf(req: FastifyRequest): string | undefined {
    return parseCookies(req.headers.cookie).get(cookieName);
  }

  return {
    app,
    sessions,
    close: () => {
      sessions.close();
      loopback.close();
    },
  };
}

/** A browser names the page that posted; anything but our own origin is a cross-site request. */
function checkOrigin(req: FastifyRequest): void {
  const origin = headerOf(req, 'origin');
  const site = headerOf(req, 'sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') throw new PortalError(403, 'CrossSiteRequestRefused', 'The portal refuses requests from other sites.');
  if (origin && origin !== 'null' && origin.toLowerCase() !== `https://${(req.headers.host ?? '').toLowerCase()}`) {
    throw new PortalError(403, 'CrossSiteRequestRefused', 'The portal refuses requests from other origins.');
  }
  if (origin === 'null') throw new PortalError(403, 'CrossSiteRequestRefused', 'The portal refuses requests from opaque origins.');
}

const csrfError = () => new PortalError(403, 'CsrfTokenInvalid', 'The request did not carry this session\'s CSRF token (X-CSRF-Token).');

function headerOf(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function vaultName(req: FastifyRequest): string {
  const v = (req.params as { vault: string }).vault;
  if (!/^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/.test(v)) throw new PortalError(400, 'VaultNameNotValid', 'Vault names are 3-24 letters, digits and dashes, starting with a letter.');
  return v;
}

function readForm(req: FastifyRequest): URLSearchParams {
  const body = typeof req.body === 'string' ? req.body : '';
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('application/json')) {
    try {
      const o = JSON.parse(body) as Record<string, unknown>;
      return new URLSearchParams(Object.entries(o).filter((e): e is [string, string] => typeof e[1] === 'string'));
    } catch {
      throw new PortalError(400, 'BadRequest', 'The body is not valid JSON.');
    }
  }
  return new URLSearchParams(body);
}

function json(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.status(status).type('application/json; charset=utf-8').send(JSON.stringify(body));
}

function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.status(status).type('text/html; charset=utf-8').send(body);
}

function passThrough(reply: FastifyReply, r: { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }): FastifyReply {
  for (const h of ['x-keyless-authz', 'x-ms-request-id', 'x-ms-correlation-request-id']) {
    const v = r.headers[h];
    if (typeof v === 'string') reply.header(h, v);
  }
  const type = r.headers['content-type'];
  reply.status(r.status);
  if (r.body.length === 0 || r.status === 204) return reply.send();
  return reply.type(typeof type === 'string' ? type : 'application/json; charset=utf-8').send(r.body);
}

function sendError(reply: FastifyReply, req: FastifyRequest, e: PortalError): FastifyReply {
  const path = req.url.split('?')[0] ?? '';
  if (path.startsWith(API) || (req.headers.accept ?? '').includes('application/json')) return json(reply, e.status, { error: { code: e.code, message: e.message } });
  return reply.status(e.status).type('text/plain; charset=utf-8').send(`${e.code}: ${e.message}\n`);
}
