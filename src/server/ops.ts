import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessControl } from '../core/access.js';
import type { Caller } from '../core/caller.js';
import { KeylessError, isKeylessError } from '../core/errors.js';
import { splitTarget } from '../core/request-target.js';
import type { ResourceService } from '../resources/index.js';

/** A route another module serves on the ops surface; resolves undefined when the path is not its own. */
export type OpsRoute = (
  req: IncomingMessage,
  ctx: { path: string; query: URLSearchParams; authenticate(): Promise<Caller> },
) => Promise<{ status: number; body: unknown; headers?: Record<string, string> } | undefined>;

export interface OpsDeps {
  health(): object;
  bearer: { verify(token: string): Promise<Caller> };
  access: AccessControl;
  resources: ResourceService;
  /** Full explanation of a hypothetical request (what `keyless access check` prints). */
  explainAccess(req: { principalId: string; action: string; scope: string; isDataAction: boolean }): { allowed: boolean; explanation: unknown; text: string };
  /** The environment a process needs to act as a VM (IMDS address, CA files…). */
  vmEnvironment(vmId: string): Promise<Record<string, string> | undefined>;
  /** Routes owned by other modules (src/federation: workload-identity issuer and tokens). */
  routes?: OpsRoute[];
}

/**
 * Keyless's own operational API (not an Azure surface): health for probes, and what the CLI needs to run
 * a process as a VM. Everything but /health is authenticated with an ARM bearer token and authorized
 * like the ARM read it mirrors.
 */
export function createOpsHandler(deps: OpsDeps) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const { path: rawPath, query } = splitTarget(req.url);
      const url = { pathname: rawPath, searchParams: query };
      const path = rawPath.replace(/\/+$/, '').toLowerCase();
      if (path === '/health') return send(res, 200, deps.health());
      if (path === '/keyless/v1/vm-environment' && req.method === 'GET') {
        const caller = await authenticate(req);
        const vmId = url.searchParams.get('id');
        if (!vmId) throw new KeylessError(400, 'BadRequest', "query parameter 'id' (the VM's resource id) is required");
        const decision = deps.access.check({ principalId: caller.objectId, action: 'Microsoft.Compute/virtualMachines/read', isDataAction: false, scope: vmId });
        if (!decision.allowed) throw new KeylessError(403, 'AuthorizationFailed', `The client '${caller.clientName}' may not read '${vmId}': ${decision.summary}`);
        const env = await deps.vmEnvironment(vmId);
        if (!env) throw new KeylessError(404, 'ResourceNotFound', `No virtual machine '${vmId}' is running an IMDS endpoint.`);
        return send(res, 200, { vm: vmId, environment: env });
      }
      for (const route of deps.routes ?? []) {
        const r = await route(req, { path, query, authenticate: () => authenticate(req) });
        if (r) return send(res, r.status, r.body, r.headers);
      }
      if (path === '/keyless/v1/access/check' && req.method === 'GET') {
        const caller = await authenticate(req);
        const principalId = url.searchParams.get('principal');
        const action = url.searchParams.get('action');
        const scope = url.searchParams.get('scope');
        if (!principalId || !action || !scope) throw new KeylessError(400, 'BadRequest', "query parameters 'principal', 'action' and 'scope' are required");
        // Reading someone's access is reading role assignments at that scope, as in the portal's "Check access".
        const may = deps.access.check({ principalId: caller.objectId, action: 'Microsoft.Authorization/roleAssignments/read', isDataAction: false, scope });
        if (!may.allowed) throw new KeylessError(403, 'AuthorizationFailed', `The client '${caller.clientName}' may not read role assignments at '${scope}': ${may.summary}`);
        const isDataAction = ['1', 'true', 'yes'].includes((url.searchParams.get('data') ?? '').toLowerCase());
        return send(res, 200, deps.explainAccess({ principalId, action, scope, isDataAction }));
      }
      throw new KeylessError(404, 'NotFound', `No Keyless operation at ${url.pathname}`);
    } catch (e) {
      const err = isKeylessError(e) ? e : new KeylessError(500, 'InternalServerError', 'internal error', { detail: String(e) });
      send(res, err.status, { error: { code: err.code, message: err.message } }, err.headers);
    }
  };

  async function authenticate(req: IncomingMessage): Promise<Caller> {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m) throw new KeylessError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.");
    return deps.bearer.verify(m[1]!);
  }
}

/** The JSON body of an ops request, refused past `maxBytes` (413) or when it does not parse (400). */
export async function readJsonBody(req: IncomingMessage, maxBytes = 64 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > maxBytes) throw new KeylessError(413, 'RequestTooLarge', `The request body is larger than ${Math.round(maxBytes / 1024)} KiB.`);
    chunks.push(c);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new KeylessError(400, 'InvalidJson', 'The request body is not valid JSON.');
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
