import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessControl } from '../core/access.js';
import type { Caller } from '../core/caller.js';
import { KeylessError, isKeylessError } from '../core/errors.js';
import { splitTarget } from '../core/request-target.js';
import type { ResourceService } from '../resources/index.js';

export interface OpsDeps {
  health(): object;
  bearer: { verify(token: string): Promise<Caller> };
  access: AccessControl;
  resources: ResourceService;
  /** The environment a process needs to act as a VM (IMDS address, CA files…). */
  vmEnvironment(vmId: string): Promise<Record<string, string> | undefined>;
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

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
