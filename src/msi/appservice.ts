import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KeylessError, isKeylessError } from '../core/errors.js';
import { splitTarget } from '../core/request-target.js';
import type { IdentitySelector, SelectionRules, SignInService } from '../signin/index.js';
import { appServiceErrorBody, appServiceTokenBody } from './appservice-wire.js';
import { canonicalPath } from './imds.js';

export const MSI_TOKEN_PATH = '/msi/token';

/** The two App Service protocol versions, and the header each carries its secret in. */
const VERSIONS = {
  '2019-08-01': { header: 'x-identity-header', headerName: 'X-IDENTITY-HEADER', selectors: ['client_id', 'object_id', 'principal_id', 'mi_res_id'] },
  '2017-09-01': { header: 'secret', headerName: 'secret', selectors: ['clientid'] },
} as const;
export type AppServiceVersion = keyof typeof VERSIONS;
/** Selector spellings of the other protocols: sent to the wrong version they would silently pick the default identity. */
const FOREIGN_SELECTORS = ['client_id', 'clientid', 'object_id', 'principal_id', 'mi_res_id', 'msi_res_id'];

/** Who is calling: the resource whose identities the request may use, or undefined when the secret does not match. */
export type AppServiceBinder = (
  req: IncomingMessage,
  presented: { version: AppServiceVersion; secret: string | undefined },
) => Promise<{ hostKey: string; rules?: SelectionRules } | undefined>;

export interface AppServiceDeps {
  signin: Pick<SignInService, 'managedIdentityToken'>;
  bind: AppServiceBinder;
}

/**
 * The App Service identity protocol, api-version 2019-08-01 (IDENTITY_ENDPOINT + X-IDENTITY-HEADER) and
 * 2017-09-01 (MSI_ENDPOINT + `secret`: az with APPSETTING_WEBSITE_SITE_NAME, JS/Python "Azure ML").
 * Pipeline: version → secret binds the caller → query → identity → token → App Service JSON.
 * Serves a request whose path was already matched; `createAppServiceListener` adds the path check.
 */
export function createAppServiceHandler(deps: AppServiceDeps) {
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const correlationId = randomUUID();
    try {
      if (req.method !== 'GET') throw new KeylessError(405, 'method_not_allowed', `The ${req.method} method is not supported on this endpoint.`);
      const q = singleValued(splitTarget(req.url).query);
      const apiVersion = q.get('api-version');
      if (!apiVersion) throw new KeylessError(400, 'invalid_request', "The 'api-version' query parameter is required (2019-08-01 or 2017-09-01).");
      if (!(apiVersion in VERSIONS)) throw new KeylessError(400, 'invalid_request', `The api-version '${apiVersion}' is not supported. Supported versions: 2019-08-01, 2017-09-01.`);
      const version = apiVersion as AppServiceVersion;
      const spec = VERSIONS[version];

      const presented = headerValue(req, spec.header);
      const binding = await deps.bind(req, { version, secret: presented });
      if (!binding) {
        throw new KeylessError(401, 'unauthorized', `The ${spec.headerName} header is missing or does not match this identity endpoint.`, {
          detail: presented === undefined ? `no ${spec.headerName} header` : `${spec.headerName} matches no resource`,
        });
      }

      const resource = q.get('resource');
      if (!resource) throw new KeylessError(400, 'invalid_request', "The 'resource' query parameter is required.");
      const foreign = FOREIGN_SELECTORS.filter((s) => !(spec.selectors as readonly string[]).includes(s) && q.get(s) !== undefined);
      if (foreign.length > 0) {
        throw new KeylessError(400, 'invalid_request', `api-version ${version} does not accept '${foreign[0]}'; use ${spec.selectors.map((s) => `'${s}'`).join(', ')}.`);
      }
      const selector = selectorOf(version, q);
      const token = await deps.signin
        .managedIdentityToken({ hostKey: binding.hostKey, resource, selector, endpoint: `appservice-${version}`, ...(binding.rules ? { rules: binding.rules } : {}) })
        .catch((e: unknown) => {
          throw selectionError(e);
        });
      send(res, 200, appServiceTokenBody(token), correlationId);
    } catch (e) {
      const err = isKeylessError(e) ? e : new KeylessError(500, 'internal_error', 'An unexpected error occurred.', { detail: String(e) });
      send(res, err.status, appServiceErrorBody(err, correlationId), correlationId, err.headers);
    }
  };
}

/** The shared App Service listener (`127.0.0.1:<msi-port>/msi/token`): the path check, then the protocol. */
export function createAppServiceListener(deps: AppServiceDeps) {
  const handle = createAppServiceHandler(deps);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (canonicalPath(splitTarget(req.url).path) === MSI_TOKEN_PATH) return handle(req, res);
    const correlationId = randomUUID();
    send(res, 404, appServiceErrorBody(new KeylessError(404, 'not_found', 'The requested path was not found.'), correlationId), correlationId);
  };
}

/**
 * Starts the App Service listener on loopback, as App Service's own token service is: only processes on this
 * machine can reach it, and the secret says which site is asking.
 */
export async function listenAppService(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void, port: number): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server = http.createServer({ keepAlive: true }, (req, res) => void handler(req, res));
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}${MSI_TOKEN_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function selectorOf(version: AppServiceVersion, q: { get(n: string): string | undefined }): IdentitySelector {
  if (version === '2017-09-01') return { clientId: q.get('clientid') || undefined };
  const objectId = q.get('object_id') || undefined;
  const principalId = q.get('principal_id') || undefined;
  const given = [q.get('client_id'), objectId, principalId, q.get('mi_res_id')].filter((v) => v);
  // principal_id is App Service's alias of object_id; naming two identities at once is ambiguous.
  if (given.length > 1) throw new KeylessError(400, 'invalid_request', 'Only one of client_id, object_id, principal_id or mi_res_id may be specified.');
  return { clientId: q.get('client_id') || undefined, objectId: objectId ?? principalId, resourceId: q.get('mi_res_id') || undefined };
}

/**
 * The sign-in service words identity-selection failures as IMDS does (400 invalid_request); App Service says
 * "Unable to load the proper Managed Identity." (observed for unknown and unassigned identities). Token
 * failures such as an unknown resource (invalid_resource, AADSTS500011) keep their own message.
 */
function selectionError(e: unknown): unknown {
  if (isKeylessError(e) && e.status === 400 && e.code === 'invalid_request') {
    return new KeylessError(400, 'invalid_request', 'Unable to load the proper Managed Identity.', { detail: e.detail ?? e.message });
  }
  return e;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function singleValued(params: URLSearchParams): { get(name: string): string | undefined } {
  const seen = new Map<string, string>();
  for (const [k, v] of params) {
    const key = k.toLowerCase();
    if (seen.has(key)) throw new KeylessError(400, 'invalid_request', `The query parameter '${k}' was specified more than once.`);
    seen.set(key, v);
  }
  return { get: (n) => seen.get(n) };
}

function send(res: ServerResponse, status: number, body: unknown, correlationId: string, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'X-CORRELATION-ID': correlationId,
    ...headers,
  });
  res.end(text);
}
