/**
 * The decision (authorization.md §1.2):
 *   1. deny assignments at the target or an ancestor (respecting DoNotApplyToChildScopes, ExcludePrincipals and
 *      "All principals") win;
 *   2. otherwise any role assignment of the caller or its groups at those scopes whose role grants the action on
 *      the requested plane (per block: Actions − NotActions, or DataActions − NotDataActions) allows, provided the
 *      block's condition and the assignment's condition hold;
 *   3. otherwise denied.
 * This is the hot path: no allocation beyond the result and, only when a condition must run, its context.
 * Action strings arrive in their wire casing, so their lower-case form is cached rather than rebuilt (and
 * rehashed for the grant caches) on every decision; loops stand in for `some(closure)`.
 */
import { normalizeAction, type ActionPattern } from '../core/actions.js';
import type { ConditionContext } from './conditions/index.js';
import type { AuthzIndex, Gate, IndexedAssignment, IndexedDeny, ScopedAssignments } from './index.js';
import type { AccessRequest, Decision, DecisionReason, DenyAssignment, Explanation, RoleAssignment, RoleDefinition } from './types.js';

class DecisionImpl implements Decision {
  private explanation: Explanation | undefined;
  constructor(
    private readonly index: AuthzIndex,
    private readonly req: AccessRequest,
    readonly allowed: boolean,
    readonly reason: DecisionReason,
    readonly conditionInvolved: boolean,
    private readonly matched?: IndexedAssignment,
    readonly matchedRole?: RoleDefinition,
    readonly matchedDenyAssignment?: DenyAssignment,
  ) {}

  /** Rebuilt from the index entry only when asked: most callers read `allowed` alone. */
  get matchedAssignment(): RoleAssignment | undefined {
    return this.matched?.assignment;
  }

  get matchedScope(): string | undefined {
    return this.matched?.scopeId;
  }

  explain(): Explanation {
    this.explanation ??= this.index.explain(this.req);
    return this.explanation;
  }
}

/** A condition that throws (bad attribute types the evaluator did not anticipate) must not grant. */
export function safeEvaluate(c: Gate, ctx: ConditionContext): boolean {
  try {
    return c.evaluate(ctx) === true;
  } catch {
    return false;
  }
}

export function conditionContext(req: AccessRequest): ConditionContext {
  return { ...req.attributes, action: req.action };
}

export const normalizePrincipalId = (id: string): string => id.trim().toLowerCase();

/**
 * Does the deny assignment cover this caller (principal or group, unless excluded)? Group ids may be given raw:
 * they are normalized here, which costs nothing for ids already in canonical form. @internal
 */
export function denyCoversPrincipal(d: IndexedDeny, principalKey: string, groupIds: readonly string[]): boolean {
  if (d.excluded.size !== 0) {
    if (d.excluded.has(principalKey)) return false;
    for (const g of groupIds) if (d.excluded.has(normalizePrincipalId(g))) return false;
  }
  if (d.allPrincipals || d.principals.has(principalKey)) return true;
  for (const g of groupIds) if (d.principals.has(normalizePrincipalId(g))) return true;
  return false;
}

/** `action` must be normalized. @internal */
export function anyMatches(patterns: readonly ActionPattern[], action: string): boolean {
  for (let i = 0; i < patterns.length; i++) if (patterns[i]!.matchesNormalized(action)) return true;
  return false;
}

/** @internal */
export function denyCoversAction(d: IndexedDeny, action: string, isDataAction: boolean): boolean {
  for (const b of d.blocks) {
    if (anyMatches(isDataAction ? b.dataActions : b.actions, action) && !anyMatches(isDataAction ? b.notDataActions : b.notActions, action)) return true;
  }
  return false;
}

// Actions come from a fixed vocabulary plus URL-derived `{type}/read` strings, so the cache is bounded.
const normalizedActions = new Map<string, string>();
const NORMALIZED_ACTION_LIMIT = 4096;

/** normalizeAction, memoized: the lower-cased copy is built (and hashed) once per distinct action string. @internal */
export function normalizedAction(action: string): string {
  let n = normalizedActions.get(action);
  if (n === undefined) {
    n = normalizeAction(action);
    if (normalizedActions.size >= NORMALIZED_ACTION_LIMIT) normalizedActions.clear();
    normalizedActions.set(action, n);
  }
  return n;
}

const NO_GROUPS: readonly string[] = [];

export function decide(index: AuthzIndex, req: AccessRequest): Decision {
  const walk = index.walk(req.scope);
  const action = normalizedAction(req.action);
  const principalKey = normalizePrincipalId(req.principalId);
  const groups = req.groupIds ?? NO_GROUPS;
  const keys = walk.keys;
  const hashes = walk.hashes;

  if (walk.denies.length > 0) {
    for (const d of walk.denies) {
      if (denyCoversPrincipal(d, principalKey, groups) && denyCoversAction(d, action, req.isDataAction)) {
        return new DecisionImpl(index, req, false, 'denied-by-deny-assignment', false, undefined, undefined, d.deny);
      }
    }
  }

  let conditionInvolved = false;
  let ctx: ConditionContext | undefined;
  for (let p = -1; p < groups.length; p++) {
    const held = index.principalAssignments(p < 0 ? principalKey : normalizePrincipalId(groups[p]!));
    if (held === undefined) continue;
    const byScope = Array.isArray(held) ? undefined : (held as ScopedAssignments);
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      // A short list is scanned per walk key (narrowest first, as with the map); interned keys compare by identity.
      // A long one is asked only about the scopes its Bloom filter may hold.
      let list: readonly IndexedAssignment[] | undefined;
      if (byScope === undefined) list = held as readonly IndexedAssignment[];
      else if (byScope.mayHold(hashes[k]!)) list = byScope.get(key);
      if (list === undefined) continue;
      for (const a of list) {
        if (byScope === undefined && a.scope.key !== key) continue;
        const role = index.compiledRole(a.roleGuid);
        if (role === undefined) continue;
        const g = role.grant(action, req.isDataAction);
        if (g.kind === 'none') continue;
        if (g.kind === 'unconditional' && a.condition === undefined) {
          return allow(index, req, a, role.role, false);
        }
        conditionInvolved = true;
        ctx ??= conditionContext(req);
        if (a.condition !== undefined && !safeEvaluate(a.condition, ctx)) continue;
        if (g.kind === 'unconditional' || g.conditions.some((c) => safeEvaluate(c, ctx!))) {
          return allow(index, req, a, role.role, true);
        }
      }
    }
  }
  return new DecisionImpl(index, req, false, conditionInvolved ? 'condition-false' : 'no-matching-assignment', conditionInvolved);
}

function allow(index: AuthzIndex, req: AccessRequest, a: IndexedAssignment, role: RoleDefinition, conditionInvolved: boolean): Decision {
  return new DecisionImpl(index, req, true, 'allowed', conditionInvolved, a, role);
}

/** A decision for when enforcement is switched off: allowed, and the explanation still says what RBAC would do. */
export function authzOffDecision(index: AuthzIndex, req: AccessRequest): Decision {
  return new DecisionImpl(index, req, true, 'authz-off', false);
}
