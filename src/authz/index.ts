/**
 * The in-memory authorization index the store fills (architecture.md: "Authorization is an index, not a scan").
 *
 * A decision never iterates over all assignments. It walks the target's ancestors (≤ ~8 keys: resource chain,
 * RG, subscription, management groups, `/`) and, for the caller and each of its groups, does one map lookup
 * per ancestor. Whether a role grants an action is cached per (role, plane, action); the cache lives on the
 * compiled role, so replacing a custom role drops it.
 */
import { compileActionPatterns, type ActionPattern } from '../core/actions.js';
import { systemClock, type Clock } from '../core/clock.js';
import { KeylessError } from '../core/errors.js';
import { parseScope, ROOT_SCOPE, type Scope } from '../core/scope.js';
import { builtinRoleById, roleDefinitionGuid } from './builtin-roles.js';
import { compileCondition, type CompiledCondition, type ConditionContext } from './conditions/index.js';
import { anyMatches, decide, normalizePrincipalId } from './decide.js';
import { explainAccess } from './explain.js';
import { ALL_PRINCIPALS_ID, type AccessRequest, type Decision, type DenyAssignment, type Explanation, type RoleAssignment, type RoleDefinition } from './types.js';

export const OWNER_ROLE_GUID = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';

/** The part of a compiled condition the engine uses (a role's unparseable condition is one that never holds). */
export interface Gate {
  readonly source: string;
  evaluate(ctx: ConditionContext): boolean;
}

/** @internal */
export interface CompiledBlock {
  readonly actions: readonly ActionPattern[];
  readonly notActions: readonly ActionPattern[];
  readonly dataActions: readonly ActionPattern[];
  readonly notDataActions: readonly ActionPattern[];
  readonly condition: Gate | undefined;
}

/**
 * What a role grants for one (plane, action): nothing, unconditionally, or only when one of the listed
 * permission-block conditions holds.
 * @internal
 */
export type Grant = { readonly kind: 'none' } | { readonly kind: 'unconditional' } | { readonly kind: 'conditional'; readonly conditions: readonly Gate[] };

const GRANT_NONE: Grant = Object.freeze({ kind: 'none' });
const GRANT_ALL: Grant = Object.freeze({ kind: 'unconditional' });
// Action strings can come from URLs (`{type}/read`), so the per-role caches are bounded.
const GRANT_CACHE_LIMIT = 4096;

/**
 * A role's block condition that cannot be compiled never grants. Roles are shared data (one built-in ships a
 * `conditionVersion: "1.0"` condition written in 2.0 syntax), so a bad one must not take the engine down; the
 * version is not enforced here for the same reason — custom roles are version-checked in validateCustomRole.
 */
function compileBlockCondition(source: string): Gate {
  try {
    return compileCondition(source);
  } catch {
    return { source, evaluate: () => false };
  }
}

/** @internal */
export class CompiledRole {
  readonly role: RoleDefinition;
  readonly guid: string;
  readonly blocks: readonly CompiledBlock[];
  private readonly controlCache = new Map<string, Grant>();
  private readonly dataCache = new Map<string, Grant>();

  constructor(role: RoleDefinition) {
    this.role = role;
    this.guid = roleDefinitionGuid(role.name || role.id);
    this.blocks = role.permissions.map((p) => ({
      actions: compileActionPatterns(p.actions),
      notActions: compileActionPatterns(p.notActions),
      dataActions: compileActionPatterns(p.dataActions),
      notDataActions: compileActionPatterns(p.notDataActions),
      condition: typeof p.condition === 'string' && p.condition.trim() !== '' ? compileBlockCondition(p.condition) : undefined,
    }));
  }

  /** `action` must be normalized (lower-case, trimmed). */
  grant(action: string, isDataAction: boolean): Grant {
    const cache = isDataAction ? this.dataCache : this.controlCache;
    let g = cache.get(action);
    if (g === undefined) {
      g = this.computeGrant(action, isDataAction);
      if (cache.size >= GRANT_CACHE_LIMIT) cache.clear();
      cache.set(action, g);
    }
    return g;
  }

  private computeGrant(action: string, isDataAction: boolean): Grant {
    const conditions: Gate[] = [];
    for (const b of this.blocks) {
      const allow = isDataAction ? b.dataActions : b.actions;
      const subtract = isDataAction ? b.notDataActions : b.notActions;
      if (!anyMatches(allow, action)) continue;
      // NotActions subtract within the same block only (authorization.md §1.3).
      if (anyMatches(subtract, action)) continue;
      if (b.condition === undefined) return GRANT_ALL;
      conditions.push(b.condition);
    }
    return conditions.length === 0 ? GRANT_NONE : Object.freeze({ kind: 'conditional', conditions });
  }
}

const ASSIGNMENT_ID_SEGMENT = '/providers/Microsoft.Authorization/roleAssignments/';

/**
 * One role assignment as the index keeps it. Decisions read only the first fields; the rest is what the ARM
 * body needs, held with shared strings (scope, role definition id, principal, condition are interned per
 * index) and without the derivable `id`, so 100k assignments cost a few hundred bytes each instead of a parsed
 * JSON body each. `assignment` rebuilds the wire model on demand (listings, GET, explanations).
 * @internal
 */
export class IndexedAssignment {
  constructor(
    readonly name: string,
    readonly scope: Scope,
    readonly principalKey: string,
    readonly roleGuid: string,
    readonly condition: CompiledCondition | undefined,
    private readonly scopeText: string,
    private readonly principalId: string,
    private readonly roleDefinitionId: string,
    private readonly principalType: RoleAssignment['principalType'],
    /** Undefined when the id is the one derived from scope and name (the usual case). */
    private readonly id: string | undefined,
    private readonly conditionText: string | null | undefined,
    private readonly conditionVersion: string | null | undefined,
    private readonly description: string | null | undefined,
    private readonly createdOn: string | undefined,
    private readonly updatedOn: string | undefined,
    private readonly createdBy: string | null | undefined,
    private readonly updatedBy: string | null | undefined,
    private readonly delegatedManagedIdentityResourceId: string | null | undefined,
  ) {}

  /** The Bloom filter hash of its scope key (computed when a principal's filter is built, not per decision). */
  get scopeHash(): number {
    return scopeKeyHash(this.scope.key);
  }

  /** The scope it is assigned at, as its `scope` property spells it (no rebuild of the whole assignment). */
  get scopeId(): string {
    return this.scopeText;
  }

  static derivedId(scope: string, name: string): string {
    return `${scope === '/' ? '' : scope}${ASSIGNMENT_ID_SEGMENT}${name}`;
  }

  /** `id === derivedId(scope, name)`, without building the string (loads test it for every assignment). */
  static isDerivedId(id: string, scope: string, name: string): boolean {
    const prefix = scope === '/' ? 0 : scope.length;
    return (
      id.length === prefix + ASSIGNMENT_ID_SEGMENT.length + name.length &&
      id.endsWith(name) &&
      id.startsWith(ASSIGNMENT_ID_SEGMENT, prefix) &&
      (prefix === 0 || id.startsWith(scope))
    );
  }

  /** A fresh copy of the assignment as written (fields that were absent stay absent). */
  get assignment(): RoleAssignment {
    const a: RoleAssignment = {
      id: this.id ?? IndexedAssignment.derivedId(this.scopeText, this.name),
      name: this.name,
      scope: this.scopeText,
      roleDefinitionId: this.roleDefinitionId,
      principalId: this.principalId,
      principalType: this.principalType,
    };
    if (this.conditionText !== undefined) a.condition = this.conditionText;
    if (this.conditionVersion !== undefined) a.conditionVersion = this.conditionVersion;
    if (this.description !== undefined) a.description = this.description;
    if (this.createdOn !== undefined) a.createdOn = this.createdOn;
    if (this.updatedOn !== undefined) a.updatedOn = this.updatedOn;
    if (this.createdBy !== undefined) a.createdBy = this.createdBy;
    if (this.updatedBy !== undefined) a.updatedBy = this.updatedBy;
    if (this.delegatedManagedIdentityResourceId !== undefined) a.delegatedManagedIdentityResourceId = this.delegatedManagedIdentityResourceId;
    return a;
  }

}

/**
 * A principal's assignments: a plain list while it has few (most principals hold one or two, and a Map per
 * principal would cost more than the assignment), by scope key once it has many.
 * @internal
 */
export type PrincipalAssignments = IndexedAssignment[] | ScopedAssignments;

/** 32 × 32 bits: 1,024 bits, two cache lines, per principal. */
const BLOOM_WORDS = 32;

/**
 * FNV-1a of a scope key, finished with murmur3's mixer so that all 32 bits are usable: the Bloom filter's three
 * 10-bit probes. Derived from the text alone (not an interning id), so a cached walk and a later assignment at the
 * same scope always agree.
 * @internal
 */
export function scopeKeyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The Bloom filters of an index's by-scope principals, side by side in one buffer, BLOOM_WORDS per slot. A probe
 * then costs the slot's cache lines and nothing else: a typed array of its own per principal would keep bits
 * over 64 bytes off the V8 heap, behind one more pointer to chase.
 *
 * Three probes in 1,024 bits: at a million assignments a user holds ~95 distinct scopes, and the earlier filter (one
 * probe in 512 bits, from the unmixed FNV's low bits) let 39 % of the absent ones through to a map lookup, a cache
 * miss each, on the bench's keys; three mixed probes in 1,024 let ~1.3 % through.
 * @internal
 */
export class BloomSlab {
  private words = new Int32Array(BLOOM_WORDS * 256);
  private readonly free: number[] = [];
  private slots = 0;

  /** A zeroed slot; its offset is the handle. */
  alloc(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    const at = this.slots++ * BLOOM_WORDS;
    if (at + BLOOM_WORDS > this.words.length) {
      const bigger = new Int32Array(this.words.length * 2);
      bigger.set(this.words);
      this.words = bigger;
    }
    return at;
  }

  release(at: number): void {
    this.clear(at);
    this.free.push(at);
  }

  clear(at: number): void {
    this.words.fill(0, at, at + BLOOM_WORDS);
  }

  mark(at: number, hash: number): void {
    const w = this.words;
    w[at + ((hash >>> 5) & 31)]! |= 1 << (hash & 31);
    w[at + ((hash >>> 15) & 31)]! |= 1 << ((hash >>> 10) & 31);
    w[at + ((hash >>> 25) & 31)]! |= 1 << ((hash >>> 20) & 31);
  }

  test(at: number, hash: number): boolean {
    const w = this.words;
    return (
      (w[at + ((hash >>> 5) & 31)]! & (1 << (hash & 31))) !== 0 &&
      (w[at + ((hash >>> 15) & 31)]! & (1 << ((hash >>> 10) & 31))) !== 0 &&
      (w[at + ((hash >>> 25) & 31)]! & (1 << ((hash >>> 20) & 31))) !== 0
    );
  }

  /** Slots in use (tests). */
  get inUse(): number {
    return this.slots - this.free.length;
  }
}

/**
 * A principal's many assignments by scope key, with a Bloom filter of those keys (in the index's BloomSlab). A
 * decision asks about every scope on its walk, and for a denied one almost every answer is "nothing here": in an
 * index of a million assignments each of those map lookups is a cache miss, while every probe of one principal
 * reads the same two lines. A false positive costs only the map lookup it would have made anyway.
 * @internal
 */
export class ScopedAssignments {
  private readonly byKey = new Map<string, IndexedAssignment[]>();
  private readonly bloom: number;

  constructor(
    private readonly slab: BloomSlab,
    list: readonly IndexedAssignment[],
  ) {
    this.bloom = slab.alloc();
    for (const e of list) this.add(e);
  }

  /** False: the principal holds nothing at the scope whose key has this hash. True: look it up. */
  mayHold(hash: number): boolean {
    return this.slab.test(this.bloom, hash);
  }

  get(key: string): IndexedAssignment[] | undefined {
    return this.byKey.get(key);
  }

  add(e: IndexedAssignment): void {
    const list = this.byKey.get(e.scope.key);
    if (list !== undefined) {
      list.push(e);
      return;
    }
    this.byKey.set(e.scope.key, [e]);
    this.slab.mark(this.bloom, e.scopeHash);
  }

  /** Removes `e`; true when nothing is left. A scope emptied rebuilds the filter, so it never fills up with stale bits. */
  remove(e: IndexedAssignment): boolean {
    const list = this.byKey.get(e.scope.key);
    if (list === undefined) return this.byKey.size === 0;
    const i = list.indexOf(e);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) {
      this.byKey.delete(e.scope.key);
      this.slab.clear(this.bloom);
      for (const at of this.byKey.values()) this.slab.mark(this.bloom, at[0]!.scopeHash);
    }
    return this.byKey.size === 0;
  }

  /** Gives the filter's slot back; the index calls it when it drops the principal, and never uses this again. */
  release(): void {
    this.slab.release(this.bloom);
  }

  all(): IndexedAssignment[] {
    return [...this.byKey.values()].flat();
  }
}

// Few enough that a short list scan (walk keys × entries) stays cheaper than the map lookups it replaces.
const PRINCIPAL_LIST_LIMIT = 4;
// Distinct strings and conditions are few (roles, scopes, authors); the bound only caps a pathological store.
const INTERN_LIMIT = 100_000;

/** @internal */
export interface CompiledDenyBlock {
  readonly actions: readonly ActionPattern[];
  readonly notActions: readonly ActionPattern[];
  readonly dataActions: readonly ActionPattern[];
  readonly notDataActions: readonly ActionPattern[];
}

/** @internal */
export interface IndexedDeny {
  readonly deny: DenyAssignment;
  readonly scope: Scope;
  readonly allPrincipals: boolean;
  readonly principals: ReadonlySet<string>;
  readonly excluded: ReadonlySet<string>;
  readonly blocks: readonly CompiledDenyBlock[];
}

/**
 * The scopes a decision walks for one target, narrowest first, with management groups spliced in.
 * @internal
 */
export interface ScopeWalk {
  readonly scope: Scope;
  readonly keys: readonly string[];
  /** scopeKeyHash of each key (the principals' Bloom filters). */
  readonly hashes: readonly number[];
  readonly ids: readonly string[];
  /**
   * Deny assignments along the walk that can apply here (those with doNotApplyToChildScopes only at the target),
   * narrowest first. Deny assignments are few and rarely change, so they are resolved once per walk and the
   * walk cache is dropped whenever one changes.
   */
  readonly denies: readonly IndexedDeny[];
}

const SCOPE_CACHE_LIMIT = 50_000;

/** Built-in roles never change at run time, so their compiled form (and grant cache) is shared by all indexes. */
const builtinCompiled = new Map<string, CompiledRole | null>();

function toSet(items: readonly { id: string }[]): Set<string> {
  return new Set(items.map((p) => normalizePrincipalId(p.id)));
}

export class AuthzIndex {
  /** principal → its assignments (a list, or by scope key when many) */
  private readonly byPrincipal = new Map<string, PrincipalAssignments>();
  /** The Bloom filters of byPrincipal's ScopedAssignments. */
  private readonly blooms = new BloomSlab();
  private readonly byName = new Map<string, IndexedAssignment>();
  private readonly byScope = new Map<string, Set<IndexedAssignment>>();
  /** role GUID → how many assignments reference it (a count: nothing needs the assignments themselves). */
  private readonly roleRefs = new Map<string, number>();
  private readonly denyByScope = new Map<string, IndexedDeny[]>();
  private readonly denyByName = new Map<string, IndexedDeny>();
  private readonly customRoles = new Map<string, CompiledRole>();
  /** management group id (lower) → parent id (lower), display id kept separately. */
  private readonly mgParent = new Map<string, string | null>();
  private readonly mgDisplay = new Map<string, string>();
  private readonly subscriptionMg = new Map<string, string>();
  private readonly walkCache = new Map<string, ScopeWalk>();
  /**
   * One parsed Scope per distinct key, shared by every assignment / deny assignment there (many assignments
   * share few scopes), with a reference count so removals release it. Walks reuse the interned key strings,
   * so map hits compare identical strings instead of 150-character copies.
   */
  private readonly scopes = new Map<string, { scope: Scope; refs: number }>();
  /**
   * Changes written but not yet in effect (the propagation-delay fidelity option), oldest first. They are
   * applied in write order, before the next decision that happens once their time has come, so tests move a
   * clock instead of sleeping.
   */
  private readonly pending: { at: number; apply: () => void }[] = [];
  /** Shared copies of the low-cardinality strings assignments repeat (role definition ids, authors, versions). */
  private readonly strings = new Map<string, string>();
  private readonly roleGuids = new Map<string, string>();
  /** One compiled condition per distinct (version, text): assignments mostly repeat a handful of conditions. */
  private readonly conditions = new Map<string, CompiledCondition>();
  /** Parsed scopes by the text as written, so loading 100k assignments parses each distinct scope once. */
  private readonly scopeByText = new Map<string, Scope>();
  private readonly clock: Clock;

  constructor(opts: { clock?: Clock } = {}) {
    this.clock = opts.clock ?? systemClock;
  }

  // ---- delayed changes --------------------------------------------------------------------------------------

  /** Runs `change` against this index once the clock reaches `at` (epoch ms). */
  schedule(at: number, change: () => void): void {
    this.pending.push({ at, apply: change });
    this.settle();
  }

  /** How many written changes are not yet in effect. */
  get pendingChanges(): number {
    return this.pending.length;
  }

  /** Applies the changes whose time has come. Decisions call it; so may anyone who needs the effective state now. */
  settle(): void {
    if (this.pending.length === 0) return;
    const now = this.clock.now();
    let due = 0;
    // FIFO even if the clock was moved back between writes: a later write never overtakes an earlier one.
    while (due < this.pending.length && this.pending[due]!.at <= now) due++;
    for (const c of this.pending.splice(0, due)) {
      try {
        c.apply();
      } catch {
        // Every change was validated when it was written; a failure here must not fail an unrelated request.
      }
    }
  }

  // ---- role definitions -------------------------------------------------------------------------------------

  /** Adds or replaces a custom role; compiled patterns and the grant cache are rebuilt. */
  upsertRoleDefinition(role: RoleDefinition): void {
    const compiled = new CompiledRole(role);
    this.customRoles.set(compiled.guid, compiled);
  }

  removeRoleDefinition(idOrGuid: string): boolean {
    return this.customRoles.delete(roleDefinitionGuid(idOrGuid));
  }

  /** Custom role by GUID, else built-in. */
  getRoleDefinition(idOrGuid: string): RoleDefinition | undefined {
    return this.compiledRole(roleDefinitionGuid(idOrGuid))?.role;
  }

  customRoleDefinitions(): RoleDefinition[] {
    return [...this.customRoles.values()].map((c) => c.role);
  }

  /** @internal */
  compiledRole(guid: string): CompiledRole | undefined {
    const custom = this.customRoles.get(guid);
    if (custom !== undefined) return custom;
    let b = builtinCompiled.get(guid);
    if (b === undefined) {
      const def = builtinRoleById(guid);
      b = def === undefined ? null : new CompiledRole(def);
      builtinCompiled.set(guid, b);
    }
    return b ?? undefined;
  }

  // ---- role assignments -------------------------------------------------------------------------------------

  /**
   * Adds or replaces (by name) a role assignment. Parses its scope and compiles its condition here, so bad
   * input fails at write time (KeylessError 400) and decisions never parse.
   */
  upsertRoleAssignment(assignment: RoleAssignment): void {
    const scope = this.internScope(this.parseAssignmentScope(assignment.scope));
    const scopeText = assignment.scope === scope.id ? scope.id : assignment.scope;
    const conditionText = assignment.condition;
    const conditionVersion = this.intern(assignment.conditionVersion);
    const condition = typeof conditionText === 'string' && conditionText.trim() !== '' ? this.compileAssignmentCondition(conditionText, conditionVersion ?? '2.0') : undefined;
    const principalId = assignment.principalId;
    const normalized = normalizePrincipalId(principalId);
    const principalKey = normalized === principalId ? principalId : normalized;
    const roleDefinitionId = this.intern(assignment.roleDefinitionId);
    const name = assignment.name;
    const createdOn = assignment.createdOn;
    const entry = new IndexedAssignment(
      name,
      scope,
      principalKey,
      this.roleGuidOf(roleDefinitionId),
      condition,
      scopeText,
      principalId,
      roleDefinitionId,
      this.intern(assignment.principalType),
      IndexedAssignment.isDerivedId(assignment.id, scopeText, name) ? undefined : assignment.id,
      condition === undefined ? conditionText : condition.source === conditionText ? condition.source : conditionText,
      conditionVersion,
      this.intern(assignment.description),
      createdOn,
      assignment.updatedOn === createdOn ? createdOn : assignment.updatedOn,
      this.intern(assignment.createdBy),
      this.intern(assignment.updatedBy),
      this.intern(assignment.delegatedManagedIdentityResourceId),
    );
    const lowered = name.toLowerCase();
    const nameKey = lowered === name ? name : lowered;
    const previous = this.byName.get(nameKey);
    if (previous !== undefined) this.unlink(previous);
    this.byName.set(nameKey, entry);
    const held = this.byPrincipal.get(principalKey);
    if (held === undefined) this.byPrincipal.set(principalKey, [entry]);
    else if (Array.isArray(held)) {
      held.push(entry);
      if (held.length > PRINCIPAL_LIST_LIMIT) this.byPrincipal.set(principalKey, new ScopedAssignments(this.blooms, held));
    } else held.add(entry);
    addTo(this.byScope, scope.key, entry);
    this.roleRefs.set(entry.roleGuid, (this.roleRefs.get(entry.roleGuid) ?? 0) + 1);
  }

  /**
   * Adds many assignments at once (start-up load, resynchronisation): the same result as upserting each in turn.
   */
  loadRoleAssignments(assignments: Iterable<RoleAssignment>): void {
    for (const a of assignments) this.upsertRoleAssignment(a);
  }

  removeRoleAssignment(name: string): boolean {
    const nameKey = name.toLowerCase();
    const entry = this.byName.get(nameKey);
    if (entry === undefined) return false;
    this.byName.delete(nameKey);
    this.unlink(entry);
    return true;
  }

  /** Removes an assignment from every index but byName (the caller deletes or overwrites that entry). */
  private unlink(entry: IndexedAssignment): void {
    const held = this.byPrincipal.get(entry.principalKey);
    if (held !== undefined) {
      let empty: boolean;
      if (Array.isArray(held)) {
        const i = held.indexOf(entry);
        if (i >= 0) held.splice(i, 1);
        empty = held.length === 0;
      } else {
        empty = held.remove(entry);
        if (empty) held.release();
      }
      if (empty) this.byPrincipal.delete(entry.principalKey);
    }
    removeFrom(this.byScope, entry.scope.key, entry);
    const refs = (this.roleRefs.get(entry.roleGuid) ?? 0) - 1;
    if (refs <= 0) this.roleRefs.delete(entry.roleGuid);
    else this.roleRefs.set(entry.roleGuid, refs);
    this.releaseScope(entry.scope);
  }

  getRoleAssignment(name: string): RoleAssignment | undefined {
    return this.byName.get(name.toLowerCase())?.assignment;
  }

  /** Every assignment (ARM listings and change-feed resynchronisation; not for decisions). */
  *assignmentsOfAll(): IterableIterator<RoleAssignment> {
    for (const e of this.byName.values()) yield e.assignment;
  }

  /** Names of every assignment (change-feed resynchronisation), without rebuilding their bodies. */
  assignmentNames(): string[] {
    return [...this.byName.values()].map((e) => e.name);
  }

  /** Assignments whose scope is exactly `scope` (case-insensitive). */
  assignmentsAtScope(scope: string): RoleAssignment[] {
    return [...(this.byScope.get(parseScope(scope).key) ?? [])].map((e) => e.assignment);
  }

  /** All assignments of one principal (any scope). */
  assignmentsOfPrincipal(principalId: string): RoleAssignment[] {
    this.settle();
    const held = this.byPrincipal.get(normalizePrincipalId(principalId));
    if (held === undefined) return [];
    return (Array.isArray(held) ? held : held.all()).map((e) => e.assignment);
  }

  /** The existing assignment binding the same principal + role at the same scope, if any (RoleAssignmentExists). */
  findDuplicate(a: Pick<RoleAssignment, 'scope' | 'principalId' | 'roleDefinitionId'>): RoleAssignment | undefined {
    const key = parseScope(a.scope).key;
    const guid = roleDefinitionGuid(a.roleDefinitionId);
    return this.assignmentsAt(normalizePrincipalId(a.principalId), key)?.find((e) => e.roleGuid === guid)?.assignment;
  }

  /** How many assignments reference a role (RoleDefinitionHasAssignments). */
  countAssignmentsOfRole(idOrGuid: string): number {
    return this.roleRefs.get(roleDefinitionGuid(idOrGuid)) ?? 0;
  }

  /**
   * True when deleting this assignment would remove the last Owner at its subscription scope (Azure refuses,
   * authorization.md §1.8).
   */
  isLastSubscriptionOwner(name: string): boolean {
    const entry = this.byName.get(name.toLowerCase());
    if (entry === undefined || entry.scope.level !== 'subscription' || entry.roleGuid !== OWNER_ROLE_GUID) return false;
    for (const other of this.byScope.get(entry.scope.key) ?? []) {
      if (other !== entry && other.roleGuid === OWNER_ROLE_GUID) return false;
    }
    return true;
  }

  get assignmentCount(): number {
    return this.byName.size;
  }

  // ---- deny assignments -------------------------------------------------------------------------------------

  upsertDenyAssignment(deny: DenyAssignment): void {
    const scope = this.internScope(parseScope(deny.scope, { propertyPath: 'properties.scope' }));
    const principals = toSet(deny.principals);
    const entry: IndexedDeny = {
      deny,
      scope,
      allPrincipals: principals.has(ALL_PRINCIPALS_ID),
      principals,
      excluded: toSet(deny.excludePrincipals),
      blocks: deny.permissions.map((p) => ({
        actions: compileActionPatterns(p.actions),
        notActions: compileActionPatterns(p.notActions),
        dataActions: compileActionPatterns(p.dataActions),
        notDataActions: compileActionPatterns(p.notDataActions),
      })),
    };
    this.removeDenyAssignment(deny.name);
    this.denyByName.set(deny.name.toLowerCase(), entry);
    const list = this.denyByScope.get(scope.key);
    if (list === undefined) this.denyByScope.set(scope.key, [entry]);
    else list.push(entry);
    this.walkCache.clear();
  }

  removeDenyAssignment(name: string): boolean {
    const key = name.toLowerCase();
    const entry = this.denyByName.get(key);
    if (entry === undefined) return false;
    this.denyByName.delete(key);
    const list = this.denyByScope.get(entry.scope.key);
    if (list !== undefined) {
      const i = list.indexOf(entry);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.denyByScope.delete(entry.scope.key);
    }
    this.releaseScope(entry.scope);
    this.walkCache.clear();
    return true;
  }

  denyAssignments(): DenyAssignment[] {
    return [...this.denyByName.values()].map((e) => e.deny);
  }

  get denyAssignmentCount(): number {
    return this.denyByName.size;
  }

  private intern<T extends string | null | undefined>(value: T): T {
    if (typeof value !== 'string') return value;
    const hit = this.strings.get(value);
    if (hit !== undefined) return hit as T;
    if (this.strings.size >= INTERN_LIMIT) this.strings.clear();
    this.strings.set(value, value);
    return value;
  }

  /** The role GUID of a role definition id; assignments repeat a handful of ids, so it is worked out once each. */
  private roleGuidOf(roleDefinitionId: string): string {
    let guid = this.roleGuids.get(roleDefinitionId);
    if (guid === undefined) {
      guid = this.intern(roleDefinitionGuid(roleDefinitionId));
      if (this.roleGuids.size >= INTERN_LIMIT) this.roleGuids.clear();
      this.roleGuids.set(roleDefinitionId, guid);
    }
    return guid;
  }

  private parseAssignmentScope(text: string): Scope {
    let parsed = this.scopeByText.get(text);
    if (parsed === undefined) {
      parsed = parseScope(text, { propertyPath: 'properties.scope' });
      if (this.scopeByText.size >= INTERN_LIMIT) this.scopeByText.clear();
      this.scopeByText.set(text, parsed);
    }
    return parsed;
  }

  /** Compiled conditions are immutable, so assignments with the same condition share one. */
  private compileAssignmentCondition(source: string, version: string): CompiledCondition {
    const key = `${version}\n${source}`;
    let c = this.conditions.get(key);
    if (c === undefined) {
      c = compileCondition(source, version);
      if (this.conditions.size >= INTERN_LIMIT) this.conditions.clear();
      this.conditions.set(key, c);
    }
    return c;
  }

  private internScope(parsed: Scope): Scope {
    const hit = this.scopes.get(parsed.key);
    if (hit !== undefined) {
      hit.refs++;
      return hit.scope;
    }
    this.scopes.set(parsed.key, { scope: parsed, refs: 1 });
    return parsed;
  }

  private releaseScope(scope: Scope): void {
    const hit = this.scopes.get(scope.key);
    if (hit !== undefined && --hit.refs <= 0) this.scopes.delete(scope.key);
  }

  // ---- management-group hierarchy ---------------------------------------------------------------------------

  /** Declares a management group and its parent (null/undefined: directly under the tenant root). */
  setManagementGroup(groupId: string, parentGroupId?: string | null): void {
    const key = groupId.toLowerCase();
    const parent = parentGroupId == null ? null : parentGroupId.toLowerCase();
    // Refuse cycles: ARM does not allow a group to become its own ancestor.
    for (let p = parent, hops = 0; p !== null; p = this.mgParent.get(p) ?? null, hops++) {
      if (p === key || hops > 64) {
        throw new KeylessError(400, 'InvalidManagementGroupHierarchy', `Management group '${groupId}' cannot be placed under its own descendant '${parentGroupId}'.`);
      }
    }
    this.mgParent.set(key, parent);
    this.mgDisplay.set(key, groupId);
    this.walkCache.clear();
  }

  removeManagementGroup(groupId: string): void {
    this.mgParent.delete(groupId.toLowerCase());
    this.walkCache.clear();
  }

  /** Places a subscription under a management group (null: no group, i.e. directly under `/`). */
  setSubscriptionManagementGroup(subscriptionId: string, groupId: string | null): void {
    if (groupId === null) this.subscriptionMg.delete(subscriptionId.toLowerCase());
    else this.subscriptionMg.set(subscriptionId.toLowerCase(), groupId.toLowerCase());
    this.walkCache.clear();
  }

  private mgChain(groupKey: string | undefined): string[] {
    const out: string[] = [];
    for (let g = groupKey, hops = 0; g !== undefined && hops < 64; hops++) {
      out.push(this.mgDisplay.get(g) ?? g);
      const parent = this.mgParent.get(g);
      g = parent === null ? undefined : parent;
    }
    return out;
  }

  /**
   * The ancestors a decision at `scope` walks, narrowest first; cached per input string.
   * @internal
   */
  walk(scope: string): ScopeWalk {
    let w = this.walkCache.get(scope);
    if (w !== undefined) return w;
    const parsed = parseScope(scope);
    const chain = parsed.ancestors();
    const ids: string[] = [];
    for (const s of chain) {
      if (s.level === 'root') break;
      ids.push(s.id);
      if (s.level === 'subscription') {
        for (const mg of this.mgChain(this.subscriptionMg.get(s.subscriptionId!.toLowerCase()))) ids.push(`/providers/Microsoft.Management/managementGroups/${mg}`);
        break;
      }
      if (s.level === 'managementGroup') {
        const parent = this.mgParent.get(s.managementGroupId!.toLowerCase());
        for (const mg of this.mgChain(parent ?? undefined)) ids.push(`/providers/Microsoft.Management/managementGroups/${mg}`);
        break;
      }
    }
    ids.push(ROOT_SCOPE);
    const keys = ids.map((i) => this.canonicalKey(i.toLowerCase()));
    const denies: IndexedDeny[] = [];
    if (this.denyByName.size > 0) {
      keys.forEach((k, i) => {
        for (const d of this.denyByScope.get(k) ?? []) if (i === 0 || !d.deny.doNotApplyToChildScopes) denies.push(d);
      });
    }
    w = { scope: parsed, ids, keys, hashes: keys.map(scopeKeyHash), denies };
    if (this.walkCache.size >= SCOPE_CACHE_LIMIT) this.walkCache.clear();
    this.walkCache.set(scope, w);
    return w;
  }

  private canonicalKey(key: string): string {
    return this.scopes.get(key)?.scope.key ?? key;
  }

  /** Whether `role` may be assigned at `scope`: one of its assignable scopes is the scope or an ancestor (MGs included). */
  isAssignableAt(role: RoleDefinition, scope: string): boolean {
    const keys = this.walk(scope).keys;
    return role.assignableScopes.some((s) => {
      const k = s === ROOT_SCOPE ? ROOT_SCOPE : s.replace(/\/+$/, '').toLowerCase();
      return keys.includes(k);
    });
  }

  /**
   * Subscriptions in which the principal (or one of its groups) holds an assignment at or below the
   * subscription, or 'all' when one sits at `/`. Management-group assignments cover the subscriptions the
   * index knows to be under that group. Scans the principal's own assignments only.
   */
  visibleSubscriptions(principalId: string, groupIds: readonly string[] = []): Set<string> | 'all' {
    this.settle();
    const out = new Set<string>();
    const mgKeys = new Set<string>();
    for (const p of [principalId, ...groupIds]) {
      const held = this.byPrincipal.get(normalizePrincipalId(p));
      if (held === undefined) continue;
      for (const e of Array.isArray(held) ? held : held.all()) {
        if (e.scope.level === 'root') return 'all';
        if (e.scope.subscriptionId !== undefined) out.add(e.scope.subscriptionId.toLowerCase());
        else if (e.scope.managementGroupId !== undefined) mgKeys.add(e.scope.managementGroupId.toLowerCase());
      }
    }
    if (mgKeys.size > 0) {
      for (const [sub, mg] of this.subscriptionMg) {
        if (this.mgChain(mg).some((g) => mgKeys.has(g.toLowerCase()))) out.add(sub);
      }
    }
    return out;
  }

  // ---- lookups used by decide()/explain() ----------------------------------------------------------------------

  /** @internal */
  assignmentsAt(principalKey: string, scopeKey: string): readonly IndexedAssignment[] | undefined {
    const held = this.byPrincipal.get(principalKey);
    if (held === undefined) return undefined;
    if (!Array.isArray(held)) return held.get(scopeKey);
    const at = held.filter((e) => e.scope.key === scopeKey);
    return at.length === 0 ? undefined : at;
  }

  /** Bloom filter slots held by principals (tests: a principal dropped gives its slot back). @internal */
  get bloomSlotsInUse(): number {
    return this.blooms.inUse;
  }

  /** The principal's assignments (decide() fetches this once per principal). @internal */
  principalAssignments(principalKey: string): Readonly<PrincipalAssignments> | undefined {
    return this.byPrincipal.get(principalKey);
  }

  /** @internal */
  denyAt(scopeKey: string): readonly IndexedDeny[] | undefined {
    return this.denyByScope.get(scopeKey);
  }

  // ---- the question -----------------------------------------------------------------------------------------

  /** May `req.principalId` (or one of its groups) perform `req.action` at `req.scope`? */
  decide(req: AccessRequest): Decision {
    if (this.pending.length !== 0) this.settle();
    return decide(this, req);
  }

  /** The traced version of decide(): every assignment and deny assignment considered, and roles that would grant. */
  explain(req: AccessRequest): Explanation {
    this.settle();
    return explainAccess(this, req);
  }

}

function addTo<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  let s = m.get(k);
  if (s === undefined) m.set(k, (s = new Set()));
  s.add(v);
}

function removeFrom<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  const s = m.get(k);
  if (s === undefined) return;
  s.delete(v);
  if (s.size === 0) m.delete(k);
}

// ---- public surface of the authorization engine --------------------------------------------------------------
export * from './types.js';
export { builtinRoles, builtinRoleById, builtinRoleByName, roleDefinitionGuid, isBuiltinRoleGuid, BUILTIN_ROLE_DEFINITION_PREFIX } from './builtin-roles.js';
export { renderExplanation, summarizeExplanation, suggestRoles } from './explain.js';
export * from './errors.js';
export { validateCustomRole, type CustomRoleInput } from './custom-roles.js';
export { RbacAccessControl, createAccessControl, type AccessControlOptions } from './access-control.js';
export { normalizePrincipalId } from './decide.js';
