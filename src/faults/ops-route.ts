import type { AccessControl } from '../core/access.js';
import type { Caller } from '../core/caller.js';
import { KeylessError } from '../core/errors.js';
import { readJsonBody, type OpsRoute } from '../server/ops.js';
import { parseFaultDuration } from './duration.js';
import type { FaultInput, FaultRegistry, FaultView } from './registry.js';

/**
 * Setting a fault changes what every client of the server sees, as taking a service down would: it takes the
 * right to grant roles at the subscription (Owner, User Access Administrator), which is as good as Owner. Reading
 * the list takes any read right at the subscription.
 */
export const FAULT_WRITE_ACTION = 'Microsoft.Authorization/roleAssignments/write';
export const FAULT_READ_ACTION = 'Microsoft.Resources/subscriptions/read';

const BASE = '/keyless/v1/faults';
const MAX_BODY = 16 * 1024;
const FIELDS = new Set(['surface', 'target', 'path', 'status', 'retryAfter', 'message', 'latency', 'connection', 'shift', 'for', 'count']);

/**
 * The fault-injection API on the ops surface:
 *   GET    /keyless/v1/faults        the faults in force on this replica, with what is left of each
 *   POST   /keyless/v1/faults        set one: {"surface":"imds","status":410,"for":"30s"} (docs/fault-injection.md)
 *   DELETE /keyless/v1/faults/{id}   clear one
 *   DELETE /keyless/v1/faults        clear all (the clock returns to real time)
 */
export function faultsOpsRoute(deps: { faults: FaultRegistry; access: AccessControl; subscriptionId: string }): OpsRoute {
  const scope = `/subscriptions/${deps.subscriptionId}`;
  return async (req, ctx) => {
    if (ctx.path !== BASE && !ctx.path.startsWith(BASE + '/')) return undefined;
    const id = ctx.path.slice(BASE.length + 1);
    if (id.includes('/')) return undefined;
    const method = req.method ?? 'GET';
    if (id && method !== 'DELETE' && method !== 'GET') throw new KeylessError(405, 'MethodNotAllowed', `Use GET or DELETE on ${BASE}/{id}.`);
    if (!id && !['GET', 'POST', 'DELETE'].includes(method)) throw new KeylessError(405, 'MethodNotAllowed', `Use GET, POST or DELETE on ${BASE}.`);
    const caller = await ctx.authenticate();
    demand(deps.access, caller, method === 'GET' ? FAULT_READ_ACTION : FAULT_WRITE_ACTION, scope);

    if (method === 'GET') {
      const all = deps.faults.list().map(wire);
      if (!id) return { status: 200, body: { value: all } };
      const one = all.find((f) => f.id === id);
      if (!one) throw notFound(id);
      return { status: 200, body: one };
    }
    if (method === 'DELETE') {
      if (!id) return { status: 200, body: { removed: deps.faults.clear() } };
      if (!deps.faults.remove(id)) throw notFound(id);
      return { status: 200, body: { removed: 1 } };
    }
    const input = faultInput(await readJsonBody(req, MAX_BODY));
    return { status: 201, body: wire(deps.faults.add(input)) };
  };
}

/** The JSON body of POST: durations as `"30s"` / `"500ms"` / `"+10m"` or as a number of seconds. */
export function faultInput(body: unknown): FaultInput {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new KeylessError(400, 'InvalidFault', 'The body must be a JSON object such as {"surface":"imds","status":410,"for":"30s"}.');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !FIELDS.has(k));
  if (unknown.length) throw new KeylessError(400, 'InvalidFault', `Unknown field '${unknown[0]}'; known fields: ${[...FIELDS].join(', ')}.`);
  const str = (k: string): string | undefined => {
    if (b[k] === undefined) return undefined;
    if (typeof b[k] !== 'string') throw new KeylessError(400, 'InvalidFault', `${k} must be a string.`);
    return b[k];
  };
  const int = (k: string): number | undefined => {
    const v = b[k];
    if (v === undefined) return undefined;
    const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) throw new KeylessError(400, 'InvalidFault', `${k} must be a whole number.`);
    return n;
  };
  const connection = str('connection');
  return {
    surface: (str('surface') ?? '') as FaultInput['surface'],
    target: str('target'),
    path: str('path'),
    status: int('status'),
    retryAfter: int('retryAfter'),
    message: str('message'),
    latencyMs: b['latency'] === undefined ? undefined : parseFaultDuration(b['latency'], 'latency'),
    connection: connection as FaultInput['connection'],
    shiftMs: b['shift'] === undefined ? undefined : parseFaultDuration(b['shift'], 'clock shift', { signed: true }),
    forMs: b['for'] === undefined ? undefined : parseFaultDuration(b['for'], 'lifetime (for)'),
    count: int('count'),
  };
}

/** What the API returns for a fault: ISO times and seconds, the fields it does not have left out. */
export function wire(f: FaultView): Record<string, unknown> & { id: string } {
  return {
    id: f.id,
    surface: f.surface,
    ...(f.target !== undefined ? { target: f.target } : {}),
    ...(f.path !== undefined ? { path: f.path } : {}),
    ...(f.status !== undefined ? { status: f.status } : {}),
    ...(f.retryAfter !== undefined ? { retryAfter: f.retryAfter } : {}),
    ...(f.message !== undefined ? { message: f.message } : {}),
    ...(f.latencyMs !== undefined ? { latencyMs: f.latencyMs } : {}),
    ...(f.connection !== undefined ? { connection: f.connection } : {}),
    ...(f.shiftMs !== undefined ? { shiftSeconds: f.shiftMs / 1000 } : {}),
    createdAt: new Date(f.createdAt).toISOString(),
    expiresAt: new Date(f.expiresAt).toISOString(),
    remainingSeconds: Math.round(f.remainingMs / 100) / 10,
    ...(f.remainingCount !== undefined ? { remainingCount: f.remainingCount } : {}),
    applied: f.applied,
  };
}

function demand(access: AccessControl, caller: Caller, action: string, scope: string): void {
  const r = access.check({ principalId: caller.objectId, action, isDataAction: false, scope });
  if (!r.allowed) {
    throw new KeylessError(403, 'AuthorizationFailed', `The client '${caller.clientName}' with object id '${caller.objectId}' does not have authorization to perform action '${action}' over scope '${scope}'.`, {
      extra: { summary: r.summary },
    });
  }
}

const notFound = (id: string) => new KeylessError(404, 'FaultNotFound', `No fault '${id}' is set on this replica (it may have expired).`);
