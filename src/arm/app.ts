import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { timeOrderedGuid } from '../core/ids.js';
import { KeylessError, isKeylessError } from '../core/errors.js';
import { splitTarget } from '../core/request-target.js';
import type { Caller } from '../core/caller.js';
import type { ArmActivityEvent, ArmDeps, ArmRequest, ArmResponse, ProviderHandler } from './context.js';
import { armError, invalidRequestContent, methodNotAllowed, missingApiVersion, serializeArmError, invalidResourceType } from './errors.js';
import { parseArmPath, type ArmRoute } from './route.js';
import { handleCoreRoute } from './providers/resources.js';
import { linkedAuthorizationFailed } from './authorization-errors.js';
import { checkAccess, demandAccess, type AuditOnlyDenial, type AuditOnlySink } from './enforce.js';
import type { StoredResource } from '../resources/index.js';

const MAX_BODY = 4 * 1024 * 1024;

/**
 * Azure Resource Manager. Every request runs the same pipeline, top to bottom in `handle`:
 * route → authenticate (bearer) → authorize (action at scope) → provider handler → serialize.
 */
export function createArmApp(deps: ArmDeps, opts: { logger?: boolean } = {}): FastifyInstance {
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: MAX_BODY,
    routerOptions: { caseSensitive: false },
    return503OnClosing: false,
    // A path that cannot be percent-decoded is refused by the router before any handler: answer it in ARM's envelope.
    frameworkErrors: (err, req, reply) => void sendError(reply, req, toKeyless(err)),
  });
  const byType = new Map<string, ProviderHandler>(deps.providers.map((p) => [p.type.toLowerCase(), p]));
  // Audit: who asked for what, kept from authentication until the response is known (see recordActivity).
  const activityOf = new WeakMap<FastifyRequest, Pick<ArmActivityEvent, 'caller' | 'operation' | 'resourceId' | 'scope' | 'subscriptionId' | 'resourceGroup'>>();
  // Audit mode: what each request would have been refused, for its activity record.
  const auditOnlyOf = new WeakMap<FastifyRequest, AuditOnlyDenial[]>();

  app.removeAllContentTypeParsers();
  // ARM reads JSON whatever the content type says (az sends application/json; some tools send none).
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      done(invalidRequestContent((e as Error).message), undefined);
    }
  });

  app.setErrorHandler((err, req, reply) => sendError(reply, req, toKeyless(err)));
  app.setNotFoundHandler((req, reply) => sendError(reply, req, noRoute(req.method, req.url)));

  app.all('/*', async (req, reply) => {
    const res = await handle(req);
    if (req.method !== 'GET' && req.method !== 'HEAD' && res.status < 300) await deps.afterMutation?.(req.url);
    reply.status(res.status);
    for (const [k, v] of Object.entries(res.headers ?? {})) reply.header(k, v);
    recordActivity(req, res.status, setIds(req, reply));
    if (res.body === undefined) return reply.send();
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(res.body));
  });

  async function handle(req: FastifyRequest): Promise<ArmResponse> {
    const target = splitTarget(req.url);
    const url = { pathname: target.path };
    const route = parseArmPath(url.pathname, req.method);
    if (!route) throw noRoute(req.method, url.pathname);
    const query = Object.fromEntries([...target.query].map(([k, v]) => [k.toLowerCase(), v]));
    if (route.kind === 'metadataEndpoints') return handleCoreRoute(route, req.method, undefined, query, deps);

    const caller = await authenticate(req);
    if (deps.onActivity) activityOf.set(req, { caller, ...operationOf(route, req.method.toUpperCase()) });
    const apiVersion = query['api-version'];
    if (!apiVersion) throw missingApiVersion();

    const sink = deps.access.mode === 'audit' ? auditOnlySink(req, caller) : undefined;
    if (route.kind !== 'resource') return handleCoreRoute(route, req.method, caller, query, deps, req.body, sink);

    const handler = byType.get(route.type.toLowerCase());
    if (!handler) throw invalidResourceType(route.type);
    const armReq = buildRequest(route, req, query, apiVersion, caller, sink);
    const method = req.method.toUpperCase();

    if (!route.name) {
      if (method === 'POST' && handler.post) return handler.post(armReq);
      if (method === 'GET' && handler.listPage) return handler.listPage(armReq);
      if (method !== 'GET' || !handler.list) throw methodNotAllowed(method, url.pathname);
      const items = await handler.list(armReq);
      return { status: 200, body: { value: handler.authorizesItself ? items : visible(items, caller, handler, armReq) } };
    }
    if (!handler.authorizesItself) {
      const action = handler.actionFor?.(method, route) ?? defaultAction(handler.type, method, route.action);
      armReq.authorize(action, handler.authorizationScope?.(route) ?? route.id);
    }
    if (route.action) {
      const fn = handler.actions?.[route.action.toLowerCase()];
      if (!fn) throw methodNotAllowed(method, url.pathname);
      return fn(armReq);
    }
    const fn = { GET: handler.get, HEAD: handler.get, PUT: handler.put, PATCH: handler.patch, DELETE: handler.delete }[method];
    if (!fn) throw methodNotAllowed(method, url.pathname);
    const res = await fn.call(handler, armReq);
    return method === 'HEAD' ? { status: res.status === 200 ? 204 : res.status } : res;
  }

  async function authenticate(req: FastifyRequest): Promise<Caller> {
    const header = req.headers.authorization;
    if (!header) {
      throw new KeylessError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.", {
        headers: {
          'WWW-Authenticate': `Bearer authorization_uri="${deps.endpoints.login}/${deps.tenantId}", error="invalid_token", error_description="The authentication failed because of missing 'Authorization' header."`,
        },
      });
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) {
      throw new KeylessError(401, 'InvalidAuthenticationToken', 'The access token is invalid.', {
        detail: 'Authorization header is not a Bearer token',
        headers: { 'WWW-Authenticate': `Bearer authorization_uri="${deps.endpoints.login}/${deps.tenantId}", error="invalid_token", error_description="The access token is invalid."` },
      });
    }
    return deps.bearer.verify(m[1]!);
  }

  function buildRequest(
    route: ArmRoute & { kind: 'resource' },
    req: FastifyRequest,
    query: Record<string, string>,
    apiVersion: string,
    caller: Caller,
    sink: AuditOnlySink | undefined,
  ): ArmRequest {
    return {
      method: req.method.toUpperCase(),
      route,
      body: req.body,
      query,
      apiVersion,
      caller,
      deps,
      authorize(action, scope, attributes) {
        demandAccess(deps.access, caller, { action, scope, attributes }, sink);
      },
      check(action, scope, attributes) {
        return checkAccess(deps.access, caller, { action, scope, attributes }, sink);
      },
      authorizeLinked(primaryAction, primaryScope, linkedAction, linkedScopes) {
        const failed = linkedScopes.filter((s) => !checkAccess(deps.access, caller, { action: linkedAction, scope: s }, sink).allowed);
        if (failed.length > 0) throw linkedAuthorizationFailed(caller, primaryAction, primaryScope, linkedAction, failed);
      },
    };
  }

  /**
   * Issue 4's audit mode: "log the denial, allow". Each would-be refusal goes to the log at once and to the
   * request's activity record (recordActivity), flagged audit-only.
   */
  function auditOnlySink(req: FastifyRequest, caller: Caller): AuditOnlySink {
    return (d) => {
      const list = auditOnlyOf.get(req);
      if (list) list.push(d);
      else auditOnlyOf.set(req, [d]);
      deps.log.warn({ surface: 'arm', authz: 'audit', principalId: caller.objectId, action: d.action, scope: d.scope, summary: d.summary }, 'authorization would deny (audit mode: allowed)');
    };
  }

  /** ARM lists only what the caller may read; a list is never a 403 on its own. */
  function visible(items: unknown[], caller: Caller, handler: ProviderHandler, req: ArmRequest): unknown[] {
    const readAction = `${handler.type}/read`;
    const out: unknown[] = [];
    for (const item of items) {
      const stored = isStored(item) ? item : undefined;
      const id = stored ? stored.id : (item as { id?: string }).id;
      if (!id) continue;
      if (!deps.access.check({ principalId: caller.objectId, action: readAction, isDataAction: false, scope: id }).allowed) continue;
      out.push(stored && handler.render ? handler.render(stored, req) : stored ? stored.body : item);
    }
    return out;
  }

  function sendError(reply: FastifyReply, req: FastifyRequest, e: KeylessError): FastifyReply {
    if (e.status >= 500) deps.log.error({ surface: 'arm', method: req.method, path: req.url.split('?')[0], code: e.code, detail: e.detail }, 'internal error');
    else deps.log.debug({ surface: 'arm', method: req.method, path: req.url.split('?')[0], code: e.code, detail: e.detail }, 'request refused');
    for (const [k, v] of Object.entries(e.headers)) reply.header(k, v);
    recordActivity(req, e.status, setIds(req, reply), e);
    if (e.extra['explanation'] !== undefined) reply.header('x-keyless-authz', String(e.extra['summary'] ?? ''));
    reply.status(e.status).type('application/json; charset=utf-8');
    return reply.send(JSON.stringify(serializeArmError(e)));
  }

  /**
   * Step 4 (audit): the activity log gets every authenticated mutation, whatever its outcome, and every
   * authorization denial (reads included) with the engine's explanation. Unauthenticated requests have no
   * caller to attribute them to; Azure's activity log leaves them out too.
   */
  function recordActivity(req: FastifyRequest, status: number, ids: { requestId: string; correlationId: string }, err?: KeylessError): void {
    if (!deps.onActivity) return;
    const who = activityOf.get(req);
    if (!who) return;
    const method = req.method.toUpperCase();
    const explanation = err?.status === 403 ? err.extra['explanation'] : undefined;
    const wouldDeny = auditOnlyOf.get(req)?.[0];
    if (!MUTATIONS.has(method) && explanation === undefined && wouldDeny === undefined) return;
    try {
      deps.onActivity({
        ...who,
        at: deps.clock.now(),
        method,
        status,
        correlationId: ids.correlationId,
        requestId: ids.requestId,
        clientRequestId: header(req, 'x-ms-client-request-id'),
        clientIp: req.socket.remoteAddress,
        error: err ? { code: err.code, message: err.message } : undefined,
        denial:
          explanation !== undefined
            ? { summary: String(err?.extra['summary'] ?? ''), explanation }
            : wouldDeny !== undefined
              ? { summary: wouldDeny.summary, explanation: wouldDeny.explanation, auditOnly: true }
              : undefined,
      });
    } catch (e) {
      deps.log.error({ surface: 'arm', err: String(e) }, 'activity hook failed');
    }
  }

  /** The action a request performs and where, as the activity log names it (computed like the authorization step). */
  function operationOf(route: ArmRoute, method: string): Pick<ArmActivityEvent, 'operation' | 'resourceId' | 'scope' | 'subscriptionId' | 'resourceGroup'> {
    const verb = method === 'GET' || method === 'HEAD' ? 'read' : method === 'DELETE' ? 'delete' : 'write';
    switch (route.kind) {
      case 'resource': {
        const handler = byType.get(route.type.toLowerCase());
        const operation = handler?.actionFor?.(method, route) ?? defaultAction(handler?.type ?? route.type, method, route.action);
        return { operation, resourceId: route.id, scope: handler?.authorizationScope?.(route) ?? route.id, subscriptionId: route.subscriptionId, resourceGroup: route.group };
      }
      case 'group':
        return { operation: `Microsoft.Resources/subscriptions/resourceGroups/${verb}`, resourceId: route.id, scope: route.id, subscriptionId: route.subscriptionId, resourceGroup: route.group };
      case 'subscription':
      case 'groups':
      case 'genericResources':
      case 'providers': {
        const id = `/subscriptions/${route.subscriptionId}`;
        const type = route.kind === 'groups' ? 'Microsoft.Resources/subscriptions/resourceGroups' : route.kind === 'providers' ? 'Microsoft.Resources/subscriptions/providers' : route.kind === 'genericResources' ? 'Microsoft.Resources/subscriptions/resources' : 'Microsoft.Resources/subscriptions';
        return { operation: `${type}/${verb}`, resourceId: id, scope: id, subscriptionId: route.subscriptionId, resourceGroup: route.kind === 'genericResources' ? route.group : undefined };
      }
      default:
        return { operation: `Microsoft.Resources/${route.kind}/${verb}`, resourceId: '/', scope: '/', subscriptionId: undefined, resourceGroup: undefined };
    }
  }

  return app;
}

const MUTATIONS = new Set(['PUT', 'PATCH', 'DELETE', 'POST']);

const isStored = (x: unknown): x is StoredResource =>
  typeof x === 'object' && x !== null && 'typeKey' in x && 'body' in x && 'internal' in x;

export function defaultAction(type: string, method: string, action: string | undefined): string {
  if (action) return `${type}/${action}/action`;
  switch (method) {
    case 'GET':
    case 'HEAD':
      return `${type}/read`;
    case 'DELETE':
      return `${type}/delete`;
    default:
      return `${type}/write`;
  }
}

function setIds(req: FastifyRequest, reply: FastifyReply): { requestId: string; correlationId: string } {
  // Time-ordered: without a client's id it is also the correlation id, which the activity log indexes.
  const requestId = timeOrderedGuid();
  const correlation = header(req, 'x-ms-correlation-request-id') ?? header(req, 'x-ms-client-request-id') ?? requestId;
  reply.header('x-ms-request-id', requestId);
  reply.header('x-ms-correlation-request-id', correlation);
  reply.header('x-ms-routing-request-id', `KEYLESS:${requestId}`);
  const clientRequestId = header(req, 'x-ms-client-request-id');
  if (clientRequestId) reply.header('x-ms-client-request-id', clientRequestId);
  return { requestId, correlationId: correlation };
}

const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

function noRoute(method: string, path: string): KeylessError {
  return armError(404, 'InvalidResourceType', `The resource type could not be found for '${method} ${path.split('?')[0]}'.`);
}

function toKeyless(err: unknown): KeylessError {
  if (isKeylessError(err)) return err;
  const e = err as { statusCode?: number; code?: string; message?: string };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return armError(413, 'RequestEntityTooLarge', `The request content size exceeds the maximum allowed size of ${MAX_BODY} bytes.`);
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || e.code?.startsWith('FST_ERR_CTP')) return invalidRequestContent(e.message ?? 'bad body');
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return armError(e.statusCode, 'BadRequest', e.message ?? 'Bad request');
  return new KeylessError(500, 'InternalServerError', 'The server encountered an internal error. Please retry the request.', {
    detail: e.message ?? String(err),
    cause: err,
  });
}
