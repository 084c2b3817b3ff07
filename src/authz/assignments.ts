import type { Clock } from '../core/clock.js';
import { KeylessError } from '../core/errors.js';
import { isGuid, newGuid } from '../core/ids.js';
import { isAncestorOrSelf, parseScope } from '../core/scope.js';
import type { AssignmentPosition, Change, Store, Tx } from '../store/index.js';
import { repos } from '../store/index.js';
import { builtinRoleById, builtinRoleByName, isBuiltinRoleGuid, roleDefinitionGuid } from './builtin-roles.js';
import { compileCondition } from './conditions/index.js';
import {
  builtInRoleDefinitionReadOnly,
  invalidRoleDefinitionId,
  lastOwnerAssignment,
  principalNotFound,
  roleAssignmentExists,
  roleAssignmentUpdateNotPermitted,
  roleDefinitionDoesNotExist,
  roleDefinitionHasAssignments,
  roleDefinitionNotAssignableAt,
  roleDefinitionWithSameNameExists,
} from './errors.js';
import { AuthzIndex } from './index.js';
import { denyAssignmentExists, validateDenyAssignment } from './deny-assignments.js';
import type { DenyAssignment, Permission, PrincipalType, RoleAssignment, RoleDefinition } from './types.js';

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

// Rows per read while loading; small enough that a page's bodies are garbage before the next page is read.
const LOAD_PAGE = 1000;

const PRINCIPAL_TYPES: PrincipalType[] = ['User', 'Group', 'ServicePrincipal', 'ForeignGroup', 'Device'];

export interface AuthorizationStoreOptions {
  /**
   * Azure-like propagation (authorization.md §7): a written change reaches decisions only this many
   * milliseconds later. 0 (the default): on the very next request.
   */
  propagationDelayMs?: number;
}

/** A custom role as written through ARM (already validated by validateCustomRole). */
export interface PutRoleDefinition {
  /** The GUID from the URL. */
  name: string;
  roleName: string;
  description: string;
  assignableScopes: string[];
  permissions: Permission[];
  by?: string | null;
}

/**
 * Role assignments, custom roles and deny assignments as persistent state: Azure's validation rules on
 * write, the store as the record, and two in-memory views of it. `records` is what was written (ARM reads,
 * validation, conflicts) and is current when a write returns; `index` is what decisions use. They are the
 * same object unless a propagation delay is configured, in which case each change reaches `index` that much
 * later, as Azure's caches make it.
 */
export class AuthorizationStore {
  readonly records: AuthzIndex;
  private readonly delayMs: number;

  constructor(
    private readonly store: Store,
    readonly index: AuthzIndex,
    private readonly clock: Clock,
    private readonly principalExists: (objectId: string) => Promise<boolean>,
    private readonly tenantId: string,
    opts: AuthorizationStoreOptions = {},
  ) {
    this.delayMs = Math.max(0, opts.propagationDelayMs ?? 0);
    this.records = this.delayMs > 0 ? new AuthzIndex({ clock }) : index;
  }

  /** Milliseconds between a write and its effect on decisions. */
  get propagationDelayMs(): number {
    return this.delayMs;
  }

  /** Applies a change to the written view now, and to the decision view now or after the propagation delay. */
  private mutate(change: (ix: AuthzIndex) => void): void {
    change(this.records);
    if (this.records !== this.index) this.index.schedule(this.clock.now() + this.delayMs, () => change(this.index));
  }

  /** Fills the index from the store and follows changes made by other replicas. */
  async load(): Promise<void> {
    // What is already stored at start-up is in effect at once, delay or not.
    const views = this.records === this.index ? [this.index] : [this.records, this.index];
    for (const r of await repos.roleDefinitions.list(this.store.db)) for (const v of views) v.upsertRoleDefinition(JSON.parse(r.body) as RoleDefinition);
    await this.eachStoredPage((page) => {
      for (const v of views) v.loadRoleAssignments(page);
    });
    for (const r of await repos.denyAssignments.list(this.store.db)) for (const v of views) v.upsertDenyAssignment(JSON.parse(r.body) as DenyAssignment);
    this.store.onChange((c) => {
      if (c.topic === 'roleAssignment') void this.refreshAssignment(c.key);
      if (c.topic === 'roleDefinition') void this.refreshRoleDefinition(c.key);
      if (c.topic === 'denyAssignment') void this.refreshDenyAssignment(c.key);
      if (c.topic === 'all') void this.reloadAll();
    });
  }

  /** After a gap in the change feed: make the index equal the store (roles first: assignments reference them). */
  private async reloadAll(): Promise<void> {
    const roles = await repos.roleDefinitions.list(this.store.db);
    const roleNames = new Set(roles.map((r) => r.name));
    for (const r of this.records.customRoleDefinitions()) if (!roleNames.has(roleDefinitionGuid(r.name))) this.mutate((ix) => ix.removeRoleDefinition(r.name));
    for (const r of roles) this.mutate((ix) => ix.upsertRoleDefinition(JSON.parse(r.body) as RoleDefinition));
    const names = new Set(await repos.roleAssignments.names(this.store.db));
    for (const name of this.records.assignmentNames()) if (!names.has(name)) this.mutate((ix) => ix.removeRoleAssignment(name));
    await this.eachStoredPage((page) => this.mutate((ix) => ix.loadRoleAssignments(page)));
    const denies = await repos.denyAssignments.list(this.store.db);
    const denyNames = new Set(denies.map((d) => d.name));
    for (const d of this.records.denyAssignments()) if (!denyNames.has(d.name.toLowerCase())) this.mutate((ix) => ix.removeDenyAssignment(d.name));
    for (const d of denies) this.mutate((ix) => ix.upsertDenyAssignment(JSON.parse(d.body) as DenyAssignment));
  }

  /**
   * Every stored assignment in write order, read a page at a time: holding all rows and their JSON bodies at
   * once (about 1 KB each) is what made a 100k-assignment start-up cost hundreds of MB of RSS.
   */
  private async eachStoredPage(apply: (page: RoleAssignment[]) => void): Promise<void> {
    let after: AssignmentPosition | undefined;
    for (;;) {
      const rows = await repos.roleAssignments.page(this.store.db, after, LOAD_PAGE);
      if (rows.length === 0) return;
      apply(rows.map((r) => fromBody(r.body)));
      const last = rows[rows.length - 1]!;
      after = { created_at: last.created_at, name: last.name };
    }
  }

  private async refreshAssignment(name: string): Promise<void> {
    const row = await repos.roleAssignments.get(this.store.db, name);
    if (row) this.mutate((ix) => ix.upsertRoleAssignment(fromBody(row.body)));
    else this.mutate((ix) => ix.removeRoleAssignment(name));
  }

  private async refreshRoleDefinition(name: string): Promise<void> {
    const row = await repos.roleDefinitions.get(this.store.db, name);
    if (row) this.mutate((ix) => ix.upsertRoleDefinition(JSON.parse(row.body) as RoleDefinition));
    else this.mutate((ix) => ix.removeRoleDefinition(name));
  }

  private async refreshDenyAssignment(name: string): Promise<void> {
    // Deny assignments are few; the listing spares the repository a lookup it needs nowhere else.
    const row = (await repos.denyAssignments.list(this.store.db)).find((d) => d.name === name.toLowerCase());
    if (row) this.mutate((ix) => ix.upsertDenyAssignment(JSON.parse(row.body) as DenyAssignment));
    else this.mutate((ix) => ix.removeDenyAssignment(name));
  }

  resolveRole(idOrName: string): RoleDefinition | undefined {
    const byId = this.records.getRoleDefinition(idOrName) ?? builtinRoleById(idOrName);
    if (byId) return byId;
    return builtinRoleByName(idOrName) ?? this.records.customRoleDefinitions().find((r) => r.roleName.toLowerCase() === idOrName.toLowerCase());
  }

  /** A custom role by GUID (built-ins excluded). */
  customRole(idOrGuid: string): RoleDefinition | undefined {
    const guid = roleDefinitionGuid(idOrGuid);
    return this.records.customRoleDefinitions().find((r) => roleDefinitionGuid(r.name) === guid);
  }

  /**
   * Creates or replaces a custom role (same GUID: update). Role names are unique in the directory, built-in
   * names included. The caller's right to write over every assignable scope is checked by the surface.
   */
  async putRoleDefinition(input: PutRoleDefinition): Promise<{ role: RoleDefinition; created: boolean }> {
    const guid = input.name.toLowerCase();
    if (!isGuid(guid)) throw invalidRoleDefinitionId(input.name);
    if (isBuiltinRoleGuid(guid)) throw builtInRoleDefinitionReadOnly(guid);
    const nameKey = input.roleName.trim().toLowerCase();
    const clash = builtinRoleByName(nameKey) ?? this.records.customRoleDefinitions().find((r) => r.roleName.toLowerCase() === nameKey && roleDefinitionGuid(r.name) !== guid);
    if (clash) throw roleDefinitionWithSameNameExists();
    const existing = this.customRole(guid);
    const now = new Date(this.clock.now()).toISOString();
    const role: RoleDefinition = {
      id: `/providers/Microsoft.Authorization/roleDefinitions/${guid}`,
      name: guid,
      roleName: input.roleName.trim(),
      roleType: 'CustomRole',
      description: input.description,
      assignableScopes: input.assignableScopes,
      permissions: input.permissions,
      createdOn: existing?.createdOn ?? now,
      updatedOn: now,
      createdBy: existing?.createdBy ?? input.by ?? null,
      updatedBy: input.by ?? null,
    };
    await this.store.transaction(async (tx, changed) => {
      await repos.roleDefinitions.put(tx, { name: guid, body: JSON.stringify(role), updated_at: this.clock.now() });
      changed({ topic: 'roleDefinition', key: guid });
    });
    this.mutate((ix) => ix.upsertRoleDefinition(role));
    return { role, created: existing === undefined };
  }

  /** Deletes a custom role; refused while assignments reference it. Undefined when there was none. */
  async deleteRoleDefinition(idOrGuid: string): Promise<RoleDefinition | undefined> {
    const guid = roleDefinitionGuid(idOrGuid);
    if (isBuiltinRoleGuid(guid)) throw builtInRoleDefinitionReadOnly(guid);
    const existing = this.customRole(guid);
    if (!existing) return undefined;
    if (this.records.countAssignmentsOfRole(guid) > 0) throw roleDefinitionHasAssignments();
    await this.store.transaction(async (tx, changed) => {
      await repos.roleDefinitions.delete(tx, guid);
      changed({ topic: 'roleDefinition', key: guid });
    });
    this.mutate((ix) => ix.removeRoleDefinition(guid));
    return existing;
  }

  /** PUT semantics: idempotent for an identical assignment, refuses to change one, refuses duplicates. */
  async createAssignment(input: CreateAssignment): Promise<{ assignment: RoleAssignment; created: boolean }> {
    const scope = parseScope(input.scope);
    const name = (input.name ?? newGuid()).toLowerCase();
    if (!isGuid(name)) throw new KeylessError(400, 'InvalidRoleAssignmentId', `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`);
    const role = this.resolveRole(input.roleDefinitionId);
    if (!role) throw roleDefinitionDoesNotExist(input.roleDefinitionId);
    const guid = roleDefinitionGuid(role.name);
    if (!role.assignableScopes.some((s) => s === '/' || isAncestorOrSelf(s, scope.id))) throw roleDefinitionNotAssignableAt(input.roleDefinitionId, scope.id, role.assignableScopes);
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

    const existing = this.records.getRoleAssignment(name);
    if (existing) {
      const same =
        existing.scope.toLowerCase() === scope.key &&
        roleDefinitionGuid(existing.roleDefinitionId) === guid &&
        existing.principalId.toLowerCase() === principalId;
      if (!same) throw roleAssignmentUpdateNotPermitted();
      if ((existing.condition ?? null) === condition && (existing.description ?? null) === (input.description ?? null)) return { assignment: existing, created: false };
    } else {
      const dup = this.records.findDuplicate({ scope: scope.id, principalId, roleDefinitionId: guid });
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
    this.mutate((ix) => ix.upsertRoleAssignment(assignment));
    return { assignment, created: !existing };
  }

  async deleteAssignment(name: string): Promise<RoleAssignment | undefined> {
    const existing = this.records.getRoleAssignment(name);
    if (!existing) return undefined;
    if (this.records.isLastSubscriptionOwner(name)) throw lastOwnerAssignment();
    await this.store.transaction(async (tx, changed) => {
      await repos.roleAssignments.delete(tx, name);
      changed({ topic: 'roleAssignment', key: name.toLowerCase() });
    });
    this.mutate((ix) => ix.removeRoleAssignment(name));
    return existing;
  }

  /**
   * Assignments attached to a deleted resource go with it (extension resources are deleted with their parent),
   * inside the resource's delete transaction; the index follows through the change feed after commit.
   */
  async deleteAssignmentsAtScope(tx: Tx, changed: (c: Change) => void, scopeId: string): Promise<void> {
    for (const a of this.records.assignmentsAtScope(scopeId)) {
      await repos.roleAssignments.delete(tx, a.name);
      changed({ topic: 'roleAssignment', key: a.name });
    }
  }

  /**
   * The admin path for deny assignments (ARM keeps them read-only, as Azure does): validates, refuses to
   * overwrite an existing one unless `replace`, and stores it. Returns whether it was new.
   */
  async createDenyAssignment(input: unknown, opts: { replace?: boolean } = {}): Promise<{ deny: DenyAssignment; created: boolean }> {
    const deny = validateDenyAssignment(input);
    const existing = this.denyAssignment(deny.name);
    if (existing && !opts.replace) throw denyAssignmentExists(deny.name);
    await this.putDenyAssignment(deny);
    return { deny, created: existing === undefined };
  }

  /** A deny assignment by its GUID, as written. */
  denyAssignment(name: string): DenyAssignment | undefined {
    const key = name.toLowerCase();
    return this.records.denyAssignments().find((d) => d.name.toLowerCase() === key);
  }

  /** Stores a deny assignment as given (already validated). */
  async putDenyAssignment(d: DenyAssignment): Promise<void> {
    await repos.denyAssignments.put(this.store.db, {
      name: d.name.toLowerCase(),
      scope_key: parseScope(d.scope).key,
      body: JSON.stringify(d),
      created_at: this.clock.now(),
    });
    this.store.publish({ topic: 'denyAssignment', key: d.name });
    this.mutate((ix) => ix.upsertDenyAssignment(d));
  }

  async deleteDenyAssignment(name: string): Promise<boolean> {
    const removed = await repos.denyAssignments.delete(this.store.db, name);
    this.mutate((ix) => ix.removeDenyAssignment(name));
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
