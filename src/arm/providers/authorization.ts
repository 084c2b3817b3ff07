import type { AuthorizationStore } from '../../authz/assignments.js';
import { builtinRoles, isBuiltinRoleGuid, roleDefinitionGuid } from '../../authz/builtin-roles.js';
import { validateCustomRole } from '../../authz/custom-roles.js';
import { denyAssignmentNotFound, renderDenyAssignment } from '../../authz/deny-assignments.js';
import { builtInRoleDefinitionReadOnly, roleDefinitionLinkedAuthorizationFailed, roleDefinitionScopeNotAssignable } from '../../authz/errors.js';
import type { Explanation, RoleAssignment, RoleDefinition } from '../../authz/types.js';
import type { AccessResult } from '../../core/access.js';
import { KeylessError } from '../../core/errors.js';
import { isAncestorOrSelf, parseScope } from '../../core/scope.js';
import { repos } from '../../store/index.js';
import type { ArmRequest, ProviderHandler } from '../context.js';
import { armError, invalidRequestContent } from '../errors.js';
import { checkObject } from './validate.js';

const RA = 'Microsoft.Authorization/roleAssignments';
const RD = 'Microsoft.Authorization/roleDefinitions';
const DA = 'Microsoft.Authorization/denyAssignments';

/** ARM wire shape of a role assignment. */
export function renderAssignment(a: RoleAssignment) {
  return {
    id: a.id,
    name: a.name,
    type: RA,
    properties: {
      roleDefinitionId: a.roleDefinitionId,
      principalId: a.principalId,
      principalType: a.principalType,
      scope: a.scope,
      condition: a.condition ?? null,
      conditionVersion: a.conditionVersion ?? null,
      description: a.description ?? null,
      createdOn: a.createdOn,
      updatedOn: a.updatedOn,
      createdBy: a.createdBy ?? null,
      updatedBy: a.updatedBy ?? null,
      delegatedManagedIdentityResourceId: a.delegatedManagedIdentityResourceId ?? null,
    },
  };
}

/** ARM wire shape of a role definition, with the id prefixed by the scope it was read at (as Azure does). */
export function renderRoleDefinition(r: RoleDefinition, scope: string) {
  const guid = roleDefinitionGuid(r.name);
  const sub = /^\/subscriptions\/[^/]+/i.exec(scope)?.[0];
  return {
    id: `${sub ?? ''}/providers/Microsoft.Authorization/roleDefinitions/${guid}`,
    name: guid,
    type: RD,
    properties: {
      roleName: r.roleName,
      type: r.roleType,
      description: r.description,
      assignableScopes: r.assignableScopes,
      permissions: r.permissions.map((p) => ({
        actions: p.actions,
        notActions: p.notActions,
        dataActions: p.dataActions,
        notDataActions: p.notDataActions,
        ...(p.condition ? { condition: p.condition, conditionVersion: p.conditionVersion } : {}),
      })),
      createdOn: r.createdOn,
      updatedOn: r.updatedOn,
      createdBy: r.createdBy ?? null,
      updatedBy: r.updatedBy ?? null,
    },
  };
}

/**
 * Microsoft.Authorization: role assignments (write/delete authorized with the request's ABAC attributes, so
 * delegated administrators like "Key Vault Data Access Administrator" work), role definitions, deny assignments.
 */
export function authorizationProviders(authz: AuthorizationStore): ProviderHandler[] {
  const check = (req: ArmRequest, action: string, scope: string, attrs?: { request?: Record<string, unknown>; resource?: Record<string, unknown> }) => req.authorize(action, scope, attrs);
  const attrsOf = (a: { roleDefinitionId: string; principalId: string; principalType: string }) => ({
    'Microsoft.Authorization/roleAssignments:RoleDefinitionId': roleDefinitionGuid(a.roleDefinitionId),
    'Microsoft.Authorization/roleAssignments:PrincipalId': a.principalId,
    'Microsoft.Authorization/roleAssignments:PrincipalType': a.principalType,
  });

  /**
   * A custom-role write or delete needs the action at the request scope (AuthorizationFailed) and then over
   * every assignable scope (LinkedAuthorizationFailed naming the ones missing), authorization.md §1.8, §4.2.
   */
  const checkOverAssignableScopes = (req: ArmRequest, action: string, scope: string, assignableScopes: readonly string[]) => {
    check(req, action, scope);
    const failed: { scope: string; result: AccessResult }[] = [];
    for (const s of assignableScopes) {
      const result = req.check(action, s);
      if (!result.allowed) failed.push({ scope: s, result });
    }
    if (failed.length > 0) {
      throw roleDefinitionLinkedAuthorizationFailed(
        req.caller,
        scope,
        failed.map((f) => f.scope),
        { action, explanation: failed[0]!.result.explanation as Explanation },
      );
    }
  };
  /** Custom roles are visible at their assignable scopes, above and below them; the tenant root sees all. */
  const visibleAt = (r: RoleDefinition, scope: string) =>
    r.roleType === 'BuiltInRole' || scope === '/' || r.assignableScopes.some((s) => isAncestorOrSelf(s, scope) || isAncestorOrSelf(scope, s));

  const roleAssignments: ProviderHandler = {
    type: RA,
    authorizesItself: true,
    async get(req) {
      const a = authz.records.getRoleAssignment(req.route.name!);
      check(req, `${RA}/read`, req.route.scope);
      if (!a || parseScope(a.scope).key !== parseScope(req.route.scope).key) throw assignmentNotFound(req.route.name!);
      return { status: 200, body: renderAssignment(a) };
    },
    async put(req) {
      const body = checkObject(req.body);
      const props = checkObject(body['properties']);
      const roleDefinitionId = props['roleDefinitionId'];
      const principalId = props['principalId'];
      if (typeof roleDefinitionId !== 'string' || !roleDefinitionId) throw invalidRequestContent("The 'properties.roleDefinitionId' field is required.");
      if (typeof principalId !== 'string' || !principalId) throw invalidRequestContent("The 'properties.principalId' field is required.");
      const principalType = props['principalType'] === undefined || props['principalType'] === null ? undefined : String(props['principalType']);
      check(req, `${RA}/write`, req.route.scope, {
        request: attrsOf({ roleDefinitionId, principalId, principalType: principalType ?? 'ServicePrincipal' }),
      });
      const { assignment, created } = await authz.createAssignment({
        scope: req.route.scope,
        name: req.route.name,
        roleDefinitionId,
        principalId,
        principalType: principalType as never,
        condition: (props['condition'] as string | null | undefined) ?? null,
        conditionVersion: (props['conditionVersion'] as string | null | undefined) ?? null,
        description: (props['description'] as string | null | undefined) ?? null,
        createdBy: req.caller.objectId,
      });
      return { status: created ? 201 : 200, body: renderAssignment(assignment) };
    },
    async delete(req) {
      const a = authz.records.getRoleAssignment(req.route.name!);
      if (!a || parseScope(a.scope).key !== parseScope(req.route.scope).key) {
        check(req, `${RA}/delete`, req.route.scope);
        return { status: 204 };
      }
      check(req, `${RA}/delete`, a.scope, { resource: attrsOf(a) });
      await authz.deleteAssignment(a.name);
      return { status: 200, body: renderAssignment(a) };
    },
    async list(req) {
      const scope = req.route.scope;
      const filter = parseAssignmentFilter(req.query['$filter']);
      const all = (await repos.roleAssignments.list(req.deps.store.db)).map((r) => authz.records.getRoleAssignment(r.name)).filter((a): a is RoleAssignment => a !== undefined);
      const out = all.filter((a) => {
        const above = isAncestorOrSelf(a.scope, scope);
        const below = isAncestorOrSelf(scope, a.scope);
        if (filter.atScope && !above) return false;
        if (!above && !below) return false;
        if (filter.principalId && a.principalId.toLowerCase() !== filter.principalId) return false;
        return true;
      });
      // Visible only where the caller may read role assignments.
      return out
        .filter((a) => req.deps.access.check({ principalId: req.caller.objectId, action: `${RA}/read`, isDataAction: false, scope: isAncestorOrSelf(a.scope, scope) ? scope : a.scope }).allowed)
        .map(renderAssignment);
    },
  };

  const roleDefinitions: ProviderHandler = {
    type: RD,
    // Role definitions are readable by anyone signed in to the tenant, as in Azure; writes check below.
    authorizesItself: true,
    async get(req) {
      const role = isGuidish(req.route.name!) ? authz.resolveRole(req.route.name!) : undefined;
      if (!role || !visibleAt(role, req.route.scope)) throw roleDefinitionNotFound(req.route.name!);
      return { status: 200, body: renderRoleDefinition(role, req.route.scope) };
    },
    async list(req) {
      const filter = req.query['$filter'];
      let roles: RoleDefinition[] = [...builtinRoles(), ...authz.records.customRoleDefinitions()];
      if (filter) {
        const byName = /^\s*roleName\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(filter);
        const byType = /^\s*type\s+eq\s+'(BuiltInRole|CustomRole)'\s*$/i.exec(filter);
        if (byName) roles = roles.filter((r) => r.roleName.toLowerCase() === byName[1]!.replace(/''/g, "'").toLowerCase());
        else if (byType) roles = roles.filter((r) => r.roleType.toLowerCase() === byType[1]!.toLowerCase());
        else throw armError(400, 'InvalidFilterInQueryString', `Invalid $filter '${filter}' specified in the query string.`);
      }
      const scope = req.route.scope;
      return roles.filter((r) => visibleAt(r, scope)).map((r) => renderRoleDefinition(r, scope));
    },
    /** Create or update a custom role: 201 either way, as Azure answers (the official clients accept only 201). */
    async put(req) {
      const name = req.route.name!;
      const scope = parseScope(req.route.scope).id;
      // ARM authorizes the request scope before the provider reads the body.
      check(req, `${RD}/write`, scope);
      const body = checkObject(req.body);
      const props = checkObject(body['properties']);
      const type = props['type'];
      if (type !== undefined && type !== null && (typeof type !== 'string' || type.toLowerCase() !== 'customrole')) {
        throw armError(400, 'InvalidRoleDefinition', `The role definition type '${String(type)}' is not valid. Only 'CustomRole' can be created or updated.`);
      }
      const def = validateCustomRole(props);
      if (!def.assignableScopes.some((s) => isAncestorOrSelf(s, scope))) throw roleDefinitionScopeNotAssignable(scope);
      // Narrowing a role's scopes also changes who can use it there: old scopes count too.
      const before = authz.customRole(name)?.assignableScopes ?? [];
      checkOverAssignableScopes(req, `${RD}/write`, scope, union(before, def.assignableScopes));
      const { role } = await authz.putRoleDefinition({ name, ...def, by: req.caller.objectId });
      return { status: 201, body: renderRoleDefinition(role, scope) };
    },
    /** 200 with the deleted role; 204 when there is none (already deleted, or never visible at this scope). */
    async delete(req) {
      const name = req.route.name!;
      const scope = parseScope(req.route.scope).id;
      const role = isGuidish(name) ? authz.customRole(name) : undefined;
      if (!role || !visibleAt(role, scope)) {
        check(req, `${RD}/delete`, scope);
        // A built-in role is refused rather than answered "already gone": it stays.
        if (isGuidish(name) && isBuiltinRoleGuid(name)) throw builtInRoleDefinitionReadOnly(roleDefinitionGuid(name));
        return { status: 204 };
      }
      checkOverAssignableScopes(req, `${RD}/delete`, scope, role.assignableScopes);
      const deleted = await authz.deleteRoleDefinition(name);
      return deleted ? { status: 200, body: renderRoleDefinition(deleted, scope) } : { status: 204 };
    },
  };

  const denyAssignments: ProviderHandler = {
    type: DA,
    authorizesItself: true,
    async get(req) {
      check(req, `${DA}/read`, req.route.scope);
      const d = authz.denyAssignment(req.route.name!);
      if (!d || (!isAncestorOrSelf(d.scope, req.route.scope) && !isAncestorOrSelf(req.route.scope, d.scope))) throw denyAssignmentNotFound(req.route.name!);
      return { status: 200, body: renderDenyAssignment(d) };
    },
    async list(req) {
      const scope = req.route.scope;
      // Like role assignments: a list is never a 403, it shows what the caller may read (here, or below it).
      const readable = (at: string) => req.deps.access.check({ principalId: req.caller.objectId, action: `${DA}/read`, isDataAction: false, scope: at }).allowed;
      return authz.records
        .denyAssignments()
        .filter((d) => (isAncestorOrSelf(d.scope, scope) ? readable(scope) : isAncestorOrSelf(scope, d.scope) && readable(d.scope)))
        .map(renderDenyAssignment);
    },
  };

  return [roleAssignments, roleDefinitions, denyAssignments];
}

const isGuidish = (s: string) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s);

function union(a: readonly string[], b: readonly string[]): string[] {
  const seen = new Map<string, string>();
  for (const s of [...b, ...a]) if (!seen.has(s.toLowerCase())) seen.set(s.toLowerCase(), s);
  return [...seen.values()];
}

function roleDefinitionNotFound(name: string): KeylessError {
  return armError(404, 'RoleDefinitionDoesNotExist', `The specified role definition with ID '${name}' does not exist.`);
}

function assignmentNotFound(name: string): KeylessError {
  return armError(404, 'RoleAssignmentNotFound', `The role assignment '${name}' is not found.`);
}

/** `$filter` forms of the roleAssignments list: atScope(), principalId eq '…', assignedTo('…'), joined by `and`. */
export function parseAssignmentFilter(filter: string | undefined): { atScope: boolean; principalId?: string } {
  const out: { atScope: boolean; principalId?: string } = { atScope: false };
  if (!filter) return out;
  for (const clause of filter.split(/\s+and\s+/i)) {
    const c = clause.trim();
    let m: RegExpExecArray | null;
    if (/^atScope\(\)$/i.test(c)) out.atScope = true;
    else if ((m = /^principalId\s+eq\s+'([0-9a-f-]{32,36})'$/i.exec(c))) out.principalId = m[1]!.toLowerCase();
    else if ((m = /^assignedTo\('([0-9a-f-]{32,36})'\)$/i.exec(c))) out.principalId = m[1]!.toLowerCase();
    else throw armError(400, 'InvalidFilterInQueryString', `Invalid $filter '${filter}' specified in the query string.`);
  }
  return out;
}
