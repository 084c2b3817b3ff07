import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { AccessControl } from '../core/access.js';
import type { Caller } from '../core/caller.js';
import { KeylessError, isKeylessError } from '../core/errors.js';
import type { DataAccessEvent } from '../server/plugin.js';
import { authenticate, type AuthenticateDeps } from './authenticate.js';
import { decideKvAccess } from './authorize.js';
import { challengeResource } from './challenge.js';
import { badParameter, invalidSecretName, kvError, missingApiVersion, secretDisabled, serializeKvError } from './errors.js';
import { kvResponseHeaders } from './headers.js';
import { hostPort, isValidSecretName, vaultAudiences, vaultBaseUrl, vaultNameFromHost } from './names.js';
import type { SecretOperationName } from './operations.js';
import { decodeSkipToken, nextLink, PagingError, parseMaxResults } from './paging.js';
import { deletedSecretBundle, secretBundle, secretItem } from './render.js';
import { parseJsonBody, parseRestore, parseSetSecret, parseUpdateSecret } from './requests.js';
import { routeKeyVault } from './route.js';
import { splitTarget } from '../core/request-target.js';
import type { SecretService } from './secrets.js';
import type { VaultInfo } from './vault-info.js';
import { noteRequestId } from '../core/request-id.js';
import type { VaultRegistry } from './vault-registry.js';

const MAX_BODY = 1024 * 1024;

export interface KeyVaultAppDeps {
  dnsSuffix: string;
  /** The HTTPS listener's port: tokens for `https://vault.{suffix}:{port}` are accepted too. */
  port: number;
  log: Logger;
  access: AccessControl;
  vaults: VaultRegistry;
  secrets: SecretService;
  auth: AuthenticateDeps;
  recordDataAccess(e: DataAccessEvent): void;
}

interface Ctx {
  vault: VaultInfo;
  caller: Caller;
  base: string;
  query: Record<string, string>;
  body: string | undefined;
}

/**
 * The Key Vault secrets data plane, host-routed by `{vault}.vault.{suffix}`. Each request runs the same
 * steps in `handle`: find the vault → authenticate (challenge) → api-version → route → authorize (RBAC or
 * access policy, per the vault) → operate → serialize in Key Vault's JSON.
 */
export function createKeyVaultApp(deps: KeyVaultAppDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: MAX_BODY,
    routerOptions: { caseSensitive: false },
    return503OnClosing: false,
    // A path that cannot be percent-decoded is refused by the router before any handler: answer it in Key Vault's JSON.
    frameworkErrors: (err, req, reply) => void send(reply, req, toKeyless(err)),
  });
  app.removeAllContentTypeParsers();
  // Bodies stay raw until after authentication: the challenge probe carries none, and a body is only
  // validated once the caller is known (protocols.md §5 gotcha 15).
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, String(body)));
  app.setErrorHandler((err, req, reply) => send(reply, req, toKeyless(err)));
  app.setNotFoundHandler((req, reply) => send(reply, req, notFound()));

  app.all('/*', async (req, reply) => {
    const { status, body } = await handle(req);
    reply.status(status);
    setHeaders(req, reply);
    if (body === undefined) return reply.send();
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(body));
  });

  async function handle(req: FastifyRequest): Promise<{ status: number; body?: unknown }> {
    const host = req.headers.host;
    const name = vaultNameFromHost(host, deps.dnsSuffix);
    const vault = name ? await deps.vaults.get(name) : undefined;
    if (!vault) throw vaultNotFound((name ?? host ?? '').slice(0, 255));
    (req as FastifyRequest & { vault?: VaultInfo }).vault = vault;

    const port = hostPort(host);
    const resource = challengeResource(deps.dnsSuffix, port);
    const caller = await authenticate(deps.auth, req.headers.authorization, resource, audiences(port));

    // Not `new URL(req.url, base)`: it reads `//x` as a host name and throws on `//%00` (core/request-target.ts).
    const url = splitTarget(req.url);
    // Names are matched decoded: the JS SDK sends `api%2Dversion`.
    const query = Object.fromEntries([...url.query].map(([k, v]) => [k.toLowerCase(), v]));
    if (!query['api-version']) throw missingApiVersion();

    const route = routeKeyVault(req.method, url.path);
    if (!route) throw badParameter('The request URI is invalid.');
    if (route.op === 'notFound') throw notFound();
    if (route.op === 'unsupported') throw unsupported(route.collection);
    if (route.name !== undefined && !isValidSecretName(route.name)) throw invalidSecretName(route.name);

    const ctx: Ctx = { vault, caller, base: vaultBaseUrl(vault.name, deps.dnsSuffix, port), query, body: typeof req.body === 'string' ? req.body : undefined };
    authorize(ctx, route.op, route.name);
    return operate(ctx, route.op, route.name, route.version);
  }

  function audiences(port: string | undefined): string[] {
    return vaultAudiences(deps.dnsSuffix, deps.port, port);
  }

  /** Decides (authorize.ts), records the decision, and refuses a denied request with Key Vault's 403. */
  function authorize(ctx: Ctx, opName: SecretOperationName, secretName: string | undefined): void {
    const d = decideKvAccess(deps.access, ctx.vault, ctx.caller, opName, secretName);
    deps.recordDataAccess(d.event);
    if (!d.allowed && d.denial) throw d.denial;
  }

  async function operate(ctx: Ctx, op: SecretOperationName, name: string | undefined, version: string | undefined): Promise<{ status: number; body?: unknown }> {
    const { vault, base } = ctx;
    const s = deps.secrets;
    switch (op) {
      case 'get': {
        const { view, value } = await s.get(vault, name!, version);
        // exp and nbf are informational for secrets: Azure still returns an expired one (Azure/AzureKeyVault#19).
        if (!view.enabled) throw secretDisabled();
        return ok(secretBundle(base, view, vault, value));
      }
      case 'set': {
        const input = parseSetSecret(parseJsonBody(ctx.body));
        const { view, value } = await s.set(vault, name!, input);
        return ok(secretBundle(base, view, vault, value));
      }
      case 'update': {
        const patch = parseUpdateSecret(parseJsonBody(ctx.body));
        return ok(secretBundle(base, await s.update(vault, name!, version || undefined, patch), vault));
      }
      case 'delete':
        return ok(deletedSecretBundle(base, await s.delete(vault, name!), vault));
      case 'list':
      case 'listVersions':
      case 'listDeleted': {
        const { size, explicit, after } = paging(ctx.query);
        if (op === 'listDeleted') {
          const r = await s.listDeleted(vault, after, size);
          return ok({ value: r.items.map((d) => deletedSecretBundle(base, d, vault, true)), nextLink: nextLink(base, '/deletedsecrets', ctx.query['api-version']!, r.next, size, explicit) });
        }
        const r = op === 'list' ? await s.list(vault, after, size) : await s.listVersions(vault, name!, after, size);
        const path = op === 'list' ? '/secrets' : `/secrets/${name!}/versions`;
        return ok({ value: r.items.map((v) => secretItem(base, v, vault, op === 'listVersions')), nextLink: nextLink(base, path, ctx.query['api-version']!, r.next, size, explicit) });
      }
      case 'getDeleted':
        return ok(deletedSecretBundle(base, await s.getDeleted(vault, name!), vault));
      case 'recover':
        return ok(secretBundle(base, await s.recover(vault, name!), vault));
      case 'purge':
        await s.purge(vault, name!);
        return { status: 204 };
      case 'backup':
        return ok({ value: await s.backup(vault, name!) });
      case 'restore':
        return ok(secretBundle(base, await s.restore(vault, parseRestore(parseJsonBody(ctx.body))), vault));
    }
  }

  function send(reply: FastifyReply, req: FastifyRequest, e: KeylessError): FastifyReply {
    if (e.status >= 500) deps.log.error({ surface: 'keyvault', method: req.method, path: req.url.split('?')[0], code: e.code, detail: e.detail }, 'internal error');
    else deps.log.debug({ surface: 'keyvault', method: req.method, path: req.url.split('?')[0], code: e.code, detail: e.detail }, 'request refused');
    for (const [k, v] of Object.entries(e.headers)) reply.header(k, v);
    setHeaders(req, reply);
    // Official clients ignore it; people reading a 403 get the engine's one-line reason.
    if (typeof e.extra['summary'] === 'string') reply.header('x-keyless-authz', headerSafe(e.extra['summary']));
    reply.status(e.status).type('application/json; charset=utf-8');
    return reply.send(JSON.stringify(serializeKvError(e)));
  }

  return app;
}

const ok = (body: unknown) => ({ status: 200, body });

function paging(query: Record<string, string>): { size: number; explicit: boolean; after: string | undefined } {
  try {
    return { size: parseMaxResults(query['maxresults']), explicit: query['maxresults'] !== undefined, after: decodeSkipToken(query['$skiptoken']) };
  } catch (e) {
    if (e instanceof PagingError) throw badParameter(e.message);
    throw e;
  }
}

function setHeaders(req: FastifyRequest, reply: FastifyReply): void {
  const vault = (req as FastifyRequest & { vault?: VaultInfo }).vault;
  const id = randomUUID();
  reply.header('x-ms-request-id', id);
  // Fastify writes its headers in one call, which getHeader cannot read back: the request log learns the id here.
  noteRequestId(reply.raw, id);
  for (const [k, v] of kvResponseHeaders(vault?.location, req.headers['x-ms-client-request-id'])) reply.header(k, v);
}

const headerSafe = (s: string): string => s.replace(/[^\x20-\x7e]/g, '?').slice(0, 1024);

/**
 * Azure has no HTTP answer for a vault that does not exist: its DNS name does not resolve. Keyless resolves
 * every `*.vault.{suffix}` name, so it answers 404 before authentication (as DNS would reveal the same).
 */
function vaultNotFound(name: string): KeylessError {
  return kvError(404, 'VaultNotFound', `The vault '${name}' does not exist. Keyless serves vaults created through Microsoft.KeyVault/vaults on ARM; Azure would fail this request at DNS resolution.`);
}

function notFound(): KeylessError {
  return kvError(404, 'NotFound', 'The requested resource was not found. Keyless serves the Key Vault secrets API.');
}

function unsupported(collection: string): KeylessError {
  return kvError(501, 'NotImplemented', `Keyless does not implement the Key Vault '${collection}' API yet; only secrets are served (see docs/deviations/keyvault.md).`);
}

function toKeyless(err: unknown): KeylessError {
  if (isKeylessError(err)) return err;
  const e = err as { statusCode?: number; code?: string; message?: string };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return kvError(413, 'RequestEntityTooLarge', `The request body exceeds the maximum allowed size of ${MAX_BODY} bytes.`);
  if (typeof e.code === 'string' && e.code.startsWith('FST_ERR_CTP')) return badParameter(e.message ?? 'The request body could not be read.');
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return badParameter(e.message ?? 'Bad request');
  return new KeylessError(500, 'InternalServerError', 'The server encountered an internal error. Please retry the request.', { detail: e.message ?? String(err), cause: err });
}
