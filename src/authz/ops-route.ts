import type { Caller } from '../core/caller.js';
import { KeylessError } from '../core/errors.js';
import { isAncestorOrSelf, parseScope } from '../core/scope.js';
import { readJsonBody, type OpsRoute } from '../server/ops.js';
import type { AuthorizationStore } from './assignments.js';
import { denyAssignmentNotFound, renderDenyAssignment } from './deny-assignments.js';

const BASE = '/keyless/v1/deny-assignments';
const DA = 'Microsoft.Authorization/denyAssignments';

/**
 * The admin path for deny assignments (Azure users cannot write them through ARM, which stays read-only):
 *   GET    /keyless/v1/deny-assignments[?scope=…]  those at, above or below the scope (default: the subscription)
 *   POST   /keyless/v1/deny-assignments            create one (409 DenyAssignmentExists if its name is taken)
 *   PUT    /keyless/v1/deny-assignments/{name}     create or replace (idempotent)
 *   GET    /keyless/v1/deny-assignments/{name}
 *   DELETE /keyless/v1/deny-assignments/{name}
 *
 * Fail closed: the caller needs `denyAssignments/read|write|delete` at the deny assignment's scope from its role
 * assignments (Owner, User Access Administrator), decided whatever `--authz` says — audit and off modes must not
 * open the admin path to everyone — and without deny assignments, so that none can lock the operator out of
 * removing it (as Azure's services can always remove their own).
 */
export function denyAssignmentsOpsRoute(deps: { authz: AuthorizationStore; subscriptionId: string }): OpsRoute {
  const subscriptionScope = `/subscriptions/${deps.subscriptionId}`;
  return async (req, ctx) => {
    if (ctx.path !== BASE && !ctx.path.startsWith(BASE + '/')) return undefined;
    const name = ctx.path.slice(BASE.length + 1);
    if (name.includes('/')) return undefined;
    const method = req.method ?? 'GET';
    const allowed = name ? ['GET', 'PUT', 'DELETE'] : ['GET', 'POST'];
    if (!allowed.includes(method)) throw new KeylessError(405, 'MethodNotAllowed', `Use ${allowed.join(', ')} on ${name ? `${BASE}/{name}` : BASE}.`);
    const caller = await ctx.authenticate();

    if (method === 'GET' && !name) {
      const scope = parseScope(ctx.query.get('scope') ?? subscriptionScope).id;
      demand(caller, 'read', scope);
      const value = deps.authz.records.denyAssignments().filter((d) => isAncestorOrSelf(d.scope, scope) || isAncestorOrSelf(scope, d.scope));
      return { status: 200, body: { value: value.map(renderDenyAssignment) } };
    }
    if (method === 'POST' || method === 'PUT') {
      const body = await readJsonBody(req);
      const input = method === 'PUT' && isObject(body) ? { ...body, name } : body;
      // Authorized at the scope the body names, before anything is stored; validation reports a missing scope.
      if (isObject(input) && typeof input['scope'] === 'string') demand(caller, 'write', parseScope(input['scope']).id);
      else demand(caller, 'write', subscriptionScope);
      const existing = method === 'PUT' ? deps.authz.denyAssignment(name) : undefined;
      // Replacing one elsewhere is removing it from its old scope: that takes the right there too.
      if (existing) demand(caller, 'delete', existing.scope);
      const { deny, created } = await deps.authz.createDenyAssignment(input, { replace: method === 'PUT' });
      return { status: created ? 201 : 200, body: renderDenyAssignment(deny) };
    }
    const existing = deps.authz.denyAssignment(name);
    if (!existing) {
      demand(caller, method === 'GET' ? 'read' : 'delete', subscriptionScope);
      throw denyAssignmentNotFound(name);
    }
    if (method === 'GET') {
      demand(caller, 'read', existing.scope);
      return { status: 200, body: renderDenyAssignment(existing) };
    }
    demand(caller, 'delete', existing.scope);
    await deps.authz.deleteDenyAssignment(existing.name);
    return { status: 200, body: renderDenyAssignment(existing) };
  };

  function demand(caller: Caller, verb: 'read' | 'write' | 'delete', scope: string): void {
    const action = `${DA}/${verb}`;
    const e = deps.authz.index.explain({ principalId: caller.objectId, action, isDataAction: false, scope });
    if (e.assignments.some((a) => a.outcome === 'granted')) return;
    throw new KeylessError(403, 'AuthorizationFailed', `The client '${caller.clientName}' with object id '${caller.objectId}' does not have authorization to perform action '${action}' over scope '${scope}'. Managing deny assignments takes a role that grants it there (Owner, User Access Administrator).`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
