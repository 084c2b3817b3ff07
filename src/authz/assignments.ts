import type { Clock } from '../core/clock.js';
import { KeylessError } from '../core/errors.js';
import { isGuid, newGuid } from '../core/ids.js';
import { isAncestorOrSelf, parseScope } from '../core/scope.js';
import type { Change, Store, Tx } from '../store/index.js';
import { repos } from '../store/index.js';
import { builtinRoleById, builtinRoleByName, roleDefinitionGuid } from './builtin-roles.js';
import { compileCondition } from './conditions/index.js';
import { principalNotFound, roleAssignmentExists, roleAssignmentUpdateNotPermitted, roleDefinitionDoesNotExist, lastOwnerAssignment } from './errors.js';
import type { AuthzIndex } from './index.js';
import type { DenyAssignment, PrincipalType, RoleAssignment, RoleDefinition } from './types.js';

export interface CreateAssignment {
  scope: string;
  /** GUID; generated when absent. */
  name?: string | undefined;
  /** Full id, bare GUID, or (in-process API and CLI only) a role name. */
  roleDefinitionId: string;
  principalId: string;
  principalType?: PrincipalType | undefined;
  condition?: string | null | undefined;
  conditionVersion?: string | null | undefined;
  description?: string | null | undefined;
  createdBy?: string | null | undefined;
}

const PRINCIPAL_TYPES: PrincipalType[] = ['User', 'Group', 'ServicePrincipal', 'ForeignGroup', 'Device'];

/**
 * Role assignments, custom roles and deny assignments as persistent state: Azure's validation rules on
 * write, the store as the record, and the in-memory index updated before the write returns — a change
 * takes effect on the very next request.
 */
export class AuthorizationStore {
  constructor(
    private readonly store: Store,
    readonly index: AuthzIndex,
    private readonly clock: Clock,
    private readonly principalExists: (objectId: string) => Promise<boolean>,
    private readonly tenantId: string,
  ) {}

  /** Fills the index from the store and follows changes made by other replicas. */
  async load(): Promise<void> {
    for (const r of await repos.roleDefinitions.list(this.store.db)) this.index.upsertRoleDefinition(JSON.parse(r.body) as RoleDefinition);
    for (const r of await repos.roleAssignments.list(this.store.db)) this.index.upsertRoleAssignment(fromBody(r.body));
    for (const r of await repos.denyAssignments.list(this.store.db)) this.index.upsertDenyAssignment(JSON.parse(r.body) as DenyAssignment);
    this.store.onChange((c) => {
      if (c.topic === 'roleAssignment') void this.refreshAssignment(c.key);
      if (c.topic === 'all') void this.reloadAssignments();
    });
  }

  /** After a gap in the change feed: make the index's assignments equal the store's. */
  private async reloadAssignments(): Promise<void> {
    const rows = await repos.roleAssignments.list(this.store.db);
    const names = new Set(rows.map((r) => r.name));
    for (const a of [...this.index.assignmentsOfAll()]) if (!names.has(a.name)) this.index.removeRoleAssignment(a.name);
    for (const r of rows) this.index.upsertRoleAssignment(fromBody(r.body));
  }

  private async refreshAssignment(name: string): Promise<void> {
    const row = await repos.roleAssignments.get(this.store.db, name);
    if (row) this.index.upsertRoleAssignment(fromBody(row.body));
    else this.index.removeRoleAssignment(name);
  }

  resolveRole(idOrName: string): RoleDefinition | undefined {
    const byId = this.index.getRoleDefinition(idOrName) ?? builtinRoleById(idOrName);
    if (byId) return byId;
    return builtinRoleByName(idOrName) ?? this.index.customRoleDefinitions().find((r) => r.roleName.toLowerCase() === idOrName.toLowerCase());
  }

  /** PUT semantics: idempotent for an identical assignment, refuses to change one, refuses duplicates. */
  async createAssignment(input: CreateAssignment): Promise<{ assignment: RoleAssignment; created: boolean }> {
    const scope = parseScope(input.scope);
    const name = (input.name ?? newGuid()).toLowerCase();
    if (!isGuid(name)) throw new KeylessError(400, 'InvalidRoleAssignmentId', `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`);
    const role = this.resolveRole(input.roleDefinitionId);
    if (!role) throw roleDefinitionDoesNotExist(input.roleDefinitionId);
    const guid = roleDefinitionGuid(role.name);
    if (!role.assignableScopes.some((s) => s === '/' || isAncestorOrSelf(s, scope.id))) {
      throw new KeylessError(403, 'AuthorizationFailed', `The role definition '${guid}' is not available for assignment at scope '${scope.id}'. Its assignable scopes are: ${role.assignableScopes.join(', ')}.`);
    }
    const principalId = input.principalId.toLowerCase();
    if (!isGuid(principalId)) throw new KeylessError(400, 'InvalidPrincipalId', `The principal ID '${input.principalId}' is not valid. Principal ID must be a GUID.`);
    if (input.principalType !== undefined && !PRINCIPAL_TYPES.includes(input.principalType)) {
      throw new KeylessError(400, 'InvalidPrincipalType', `The principal type '${String(input.principalType)}' is not valid. Valid values are ${PRINCIPAL_TYPES.join(', ')}.`);
    }
    // Azure checks the directory only when the caller did not name the principal's type (replication delay advice).
    if (input.principalType === undefined && !(await this.principalExists(principalId))) throw principalNotFound(principalId, this.tenantId);
    const condition = input.condition ?? null;
    const conditionVersion = input.conditionVersion ?? (condition ? '2.0' : null);
    if (condition) compileCondition(condition, conditionVersion ?? undefined);
    else if (input.conditionVersion) {
      throw new KeylessError(400, 'InvalidRoleAssignmentCondition', 'conditionVersion cannot be specified without a condition.');
    }

    const existing = this.index.getRoleAssignment(name);
    if (existing) {
      const same =
        existing.scope.toLowerCase() === scope.key &&
        roleDefinitionGuid(existing.roleDefinitionId) === guid &&
        existing.principalId.toLowerCase() === principalId;
      if (!same) throw roleAssignmentUpdateNotPermitted();
      if ((existing.condition ?? null) === condition && (existing.description ?? null) === (input.description ?? null)) return { assignment: existing, created: false };
    } else {
      const dup = this.index.findDuplicate({ scope: scope.id, principalId, roleDefinitionId: guid });
      if (dup) throw roleAssignmentExists(dup.name);
    }

    const now = new Date(this.clock.now()).toISOString();
    const subscription = scope.subscriptionId;
    const assignment: RoleAssignment = {
      id: `${scope.id === '/' ? '' : scope.id}/providers/Microsoft.Authorization/roleAssignments/${name}`,
      name,
      scope: scope.id,
      roleDefinitionId: subscription ? `/subscriptions/${subscription}/providers/Microsoft.Authorization/roleDefinitions/${guid}` : `/providers/Microsoft.Authorization/roleDefinitions/${guid}`,
      principalId,
      principalType: input.principalType ?? 'ServicePrincipal',
      condition,
      conditionVersion,
      description: input.description ?? null,
      createdOn: existing?.createdOn ?? now,
      updatedOn: now,
      createdBy: existing?.createdBy ?? input.createdBy ?? null,
      updatedBy: input.createdBy ?? null,
      delegatedManagedIdentityResourceId: null,
    };
    try {
      await this.store.transaction(async (tx, changed) => {
        if (existing) await repos.roleAssignments.delete(tx, name);
        await repos.roleAssignments.insert(tx, {
          name,
          scope_key: scope.key,
          principal_id: principalId,
          role_definition_name: guid,
          body: JSON.stringify(assignment),
          created_at: this.clock.now(),
        });
        changed({ topic: 'roleAssignment', key: name });
      });
    } catch (e) {
      // A concurrent writer (another replica) won the unique index: the same answer Azure gives.
      if (/unique|duplicate/i.test(String((e as Error).message))) throw roleAssignmentExists();
      throw e;
    }
    this.index.upsertRoleAssignment(assignment);
    return { assignment, created: !existing };
  }

  async deleteAssignment(name: string): Promise<RoleAssignment | undefined> {
    const existing = this.index.getRoleAssignment(name);
    if (!existing) return undefined;
    if (this.index.isLastSubscriptionOwner(name)) throw lastOwnerAssignment();
    await this.store.transaction(async (tx, changed) => {
      await repos.roleAssignments.delete(tx, name);
      changed({ topic: 'roleAssignment', key: name.toLowerCase() });
    });
    this.index.removeRoleAssignment(name);
    return existing;
  }

  /**
   * Assignments attached to a deleted resource go with it (extension resources are deleted with their parent),
   * inside the resource's delete transaction; the index follows through the change feed after commit.
   */
  async deleteAssignmentsAtScope(tx: Tx, changed: (c: Change) => void, scopeId: string): Promise<void> {
    for (const a of this.index.assignmentsAtScope(scopeId)) {
      await repos.roleAssignments.delete(tx, a.name);
      changed({ topic: 'roleAssignment', key: a.name });
    }
  }

  /** Deny assignments cannot be created through ARM (as in Azure); this is the admin path. */
  async putDenyAssignment(d: DenyAssignment): Promise<void> {
    await repos.denyAssignments.put(this.store.db, {
      name: d.name.toLowerCase(),
      scope_key: parseScope(d.scope).key,
      body: JSON.stringify(d),
      created_at: this.clock.now(),
    });
    this.store.publish({ topic: 'denyAssignment', key: d.name });
    this.index.upsertDenyAssignment(d);
  }

  async deleteDenyAssignment(name: string): Promise<boolean> {
    const removed = await repos.denyAssignments.delete(this.store.db, name);
    this.index.removeDenyAssignment(name);
    this.store.publish({ topic: 'denyAssignment', key: name });
    return removed;
  }
}

function fromBody(body: string): RoleAssignment {
  const parsed = JSON.parse(body) as RoleAssignment & { properties?: Record<string, unknown> };
  // Bootstrap writes the ARM wire shape ({id, name, properties:{…}}); the service writes the flat model.
  if (parsed.properties) {
    const p = parsed.properties as Record<string, any>;
    return {
      id: parsed.id,
      name: parsed.name,
      scope: p['scope'],
      roleDefinitionId: p['roleDefinitionId'],
      principalId: p['principalId'],
      principalType: p['principalType'],
      condition: p['condition'] ?? null,
      conditionVersion: p['conditionVersion'] ?? null,
      description: p['description'] ?? null,
      createdOn: p['createdOn'],
      updatedOn: p['updatedOn'],
      createdBy: p['createdBy'] ?? null,
      updatedBy: p['updatedBy'] ?? null,
    };
  }
  return parsed;
}
