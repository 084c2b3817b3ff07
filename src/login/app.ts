import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { KeylessError, isKeylessError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from 'pino';
import type { Directory, Principal } from '../directory/index.js';
import { aadsts, scopeToResource, type SignInService, type IssuedAccessToken } from '../signin/index.js';
import { entraErrorBody } from './errors.js';

export interface DiscoveryDocuments {
  v2(tenant: string): object;
  v1(tenant: string): object;
  adfs(): object;
  instance(authorizationEndpoint: string | undefined): object;
  jwks(): object;
}

export interface ClientAssertionVerifier {
  /** Verifies a client_assertion (certificate or federated) and returns the principal it authenticates. */
  verify(input: { clientId: string; assertion: string; tokenEndpoint: string }): Promise<{ principal: Principal; clientAuth: 'certificate' | 'federated' }>;
}

export interface LoginDeps {
  tenantId: string;
  log: Logger;
  /** Tenant aliases accepted in paths besides the GUID (e.g. the tenant's domain). */
  tenantAliases: string[];
  clock: Clock;
  directory: Directory;
  signin: SignInService;
  documents: DiscoveryDocuments;
  /** Public base URL of this surface, e.g. https://localhost:8443 */
  authority(req: FastifyRequest): string;
  assertions?: ClientAssertionVerifier;
}

const FORM_LIMIT = 64 * 1024;

/**
 * Entra ID's endpoints that clients actually call for app-only tokens: discovery (v1, v2, ADFS-style),
 * JWKS, instance discovery, and the v1/v2/ADFS token endpoints with client_credentials.
 */
export function createLoginApp(deps: LoginDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: FORM_LIMIT,
    routerOptions: { caseSensitive: false },
    // A path that cannot be percent-decoded is refused by the router before any handler: answer it as Entra would, in AADSTS JSON.
    frameworkErrors: (err, req, reply) => void sendError(reply, req, toKeyless(err)),
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, String(body)));

  app.setErrorHandler((err, req, reply) => sendError(reply, req, toKeyless(err)));
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, req, new KeylessError(404, 'invalid_request', `AADSTS90002: The endpoint '${req.url.split('?')[0]}' was not found.`)),
  );

  const tenantOk = (t: string) => {
    const l = t.toLowerCase();
    return l === deps.tenantId || deps.tenantAliases.includes(l) || l === 'common' || l === 'organizations';
  };
  const requireTenant = (t: string) => {
    if (!tenantOk(t)) {
      throw aadsts(400, 'invalid_tenant', 90002, `Tenant '${t}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    }
  };
  const json = (reply: FastifyReply, body: object) => reply.type('application/json; charset=utf-8').header('Cache-Control', 'max-age=86400, private').send(JSON.stringify(body));

  app.get('/:tenant/v2.0/.well-known/openid-configuration', async (req, reply) => {
    const { tenant } = req.params as { tenant: string };
    requireTenant(tenant);
    return json(reply, deps.documents.v2(tenant));
  });
  app.get('/:tenant/.well-known/openid-configuration', async (req, reply) => {
    const { tenant } = req.params as { tenant: string };
    if (tenant.toLowerCase() === 'adfs') return json(reply, deps.documents.adfs());
    requireTenant(tenant);
    return json(reply, deps.documents.v1(tenant));
  });
  for (const path of ['/:tenant/discovery/v2.0/keys', '/:tenant/discovery/keys']) {
    app.get(path, async (req, reply) => {
      const { tenant } = req.params as { tenant: string };
      if (tenant.toLowerCase() !== 'adfs') requireTenant(tenant);
      return json(reply, deps.documents.jwks());
    });
  }
  app.get('/common/discovery/instance', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    return json(reply, deps.documents.instance(q['authorization_endpoint']));
  });

  app.post('/:tenant/oauth2/v2.0/token', (req, reply) => token(req, reply, 'v2'));
  app.post('/:tenant/oauth2/token', (req, reply) => token(req, reply, 'v1'));

  async function token(req: FastifyRequest, reply: FastifyReply, version: 'v1' | 'v2'): Promise<FastifyReply> {
    const { tenant } = req.params as { tenant: string };
    const adfs = tenant.toLowerCase() === 'adfs';
    if (!adfs) requireTenant(tenant);
    const form = parseForm(req);
    const endpoint = adfs ? 'adfs' : `oauth2-${version}`;
    const grant = form.get('grant_type');
    if (grant !== 'client_credentials') {
      throw aadsts(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant ?? ''}'. Keyless issues app-only tokens (client_credentials).`);
    }
    let clientId = form.get('client_id');
    let secret = form.get('client_secret');
    const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
      const [id, ...rest] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
      clientId ??= decodeURIComponent(id ?? '');
      secret ??= decodeURIComponent(rest.join(':'));
    }
    if (!clientId) throw aadsts(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
    const resource = version === 'v1' && !adfs ? form.get('resource') : form.get('scope') !== undefined ? scopeToResource(form.get('scope')!) : form.get('resource');
    if (!resource) {
      throw version === 'v1' && !adfs
        ? aadsts(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'resource'.")
        : aadsts(400, 'invalid_scope', 1002012, `The provided value for scope ${form.get('scope') ?? ''} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
    }
    let principal: Principal;
    let clientAuth: 'secret' | 'certificate' | 'federated' = 'secret';
    try {
      const assertion = form.get('client_assertion');
      if (assertion !== undefined) {
        if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
          throw aadsts(400, 'invalid_request', 50027, "Invalid client_assertion_type: only 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' is supported.");
        }
        if (!deps.assertions) throw aadsts(401, 'invalid_client', 700027, 'Client assertion authentication is not enabled on this server.');
        const r = await deps.assertions.verify({ clientId, assertion, tokenEndpoint: `${deps.authority(req)}${req.url.split('?')[0]}` });
        principal = r.principal;
        clientAuth = r.clientAuth;
      } else if (secret !== undefined) {
        const p = await deps.directory.verifyClientSecret(clientId, secret);
        if (!p) {
          const known = await deps.directory.getByAppId(clientId);
          throw known
            ? aadsts(401, 'invalid_client', 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '" + clientId + "'.")
            : aadsts(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${deps.tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`);
        }
        principal = p;
      } else {
        throw aadsts(401, 'invalid_client', 7000216, "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.");
      }
    } catch (e) {
      deps.signin.recordFailure(endpoint, clientId, resource, e);
      throw e;
    }
    // Awaited so the sign-in service may sign on the thread pool (bench/NOTES.md, profiling of the token endpoint).
    const t = await deps.signin.appToken(principal, resource, endpoint, clientAuth);
    return json(reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache'), version === 'v1' && !adfs ? v1Body(t) : v2Body(t));
  }

  function sendError(reply: FastifyReply, req: FastifyRequest, e: KeylessError): FastifyReply {
    if (e.status >= 500) deps.log.error({ surface: 'login', path: req.url.split('?')[0], code: e.code, detail: e.detail }, 'internal error');
    const correlation = (req.headers['client-request-id'] as string | undefined) ?? (req.query as Record<string, string>)?.['client-request-id'] ?? randomUUID();
    for (const [k, v] of Object.entries(e.headers)) reply.header(k, v);
    return reply.status(e.status).type('application/json; charset=utf-8').send(JSON.stringify(entraErrorBody(e, correlation, new Date(deps.clock.now()))));
  }

  return app;
}

const v2Body = (t: IssuedAccessToken) => ({ token_type: 'Bearer', expires_in: t.expiresIn, ext_expires_in: t.expiresIn, access_token: t.accessToken });
const v1Body = (t: IssuedAccessToken) => ({
  token_type: 'Bearer',
  expires_in: String(t.expiresIn),
  ext_expires_in: String(t.expiresIn),
  expires_on: String(t.expiresOn),
  not_before: String(t.notBefore),
  resource: t.resource,
  access_token: t.accessToken,
});

function parseForm(req: FastifyRequest): { get(name: string): string | undefined } {
  const ct = String(req.headers['content-type'] ?? '');
  if (!ct.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    throw aadsts(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'. (Content-Type must be application/x-www-form-urlencoded.)");
  }
  const params = new URLSearchParams(typeof req.body === 'string' ? req.body : '');
  const map = new Map<string, string>();
  for (const [k, v] of params) {
    if (map.has(k)) throw aadsts(400, 'invalid_request', 90015, `Requested query string is too long, or the parameter '${k}' was duplicated.`);
    map.set(k, v);
  }
  return { get: (n) => map.get(n) };
}

function toKeyless(err: unknown): KeylessError {
  if (isKeylessError(err)) return err;
  const e = err as { code?: string; message?: string; statusCode?: number };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return aadsts(413, 'invalid_request', 90015, 'The request body is too large.');
  if (typeof e.statusCode === 'number' && e.statusCode < 500) return aadsts(e.statusCode, 'invalid_request', 900144, e.message ?? 'Bad request');
  return new KeylessError(500, 'server_error', 'AADSTS90100: An internal error occurred.', { detail: e.message ?? String(err) });
}
