/**
 * Access review: for each identity, what it was granted against what it actually used, and the least privilege
 * that would have done. Granted = role assignments (from the authorization index) and Key Vault access-policy
 * entries; used = the audit trail's authorized activity (ARM mutations that succeeded) and data-access events
 * (allowed data-plane requests) in a window. The suggestion picks built-in roles from the engine's catalog —
 * candidates are suggestRoles()' narrowest roles for each used action — by weighted set cover (actions covered
 * per unit of role breadth), each at the narrowest scope covering where its actions were used.
 */
import { normalizeAction } from '../core/actions.js';
import { KeylessError } from '../core/errors.js';
import { isAncestorOrSelf, tryParseScope, type Scope } from '../core/scope.js';
import type { AuthzIndex } from '../authz/index.js';
import { suggestRoles } from '../authz/explain.js';
import { isDataActionName } from '../authz/provider-operations.js';
import { roleBreadth } from '../authz/role-breadth.js';
import { roleDefinitionGuid } from '../authz/builtin-roles.js';
import type { RoleAssignment } from '../authz/types.js';
import type { AccessPolicyEntry, PermissionKind } from '../keyvault/access-policy.js';
import type { UsageRow } from './types.js';

export interface ReviewIdentity {
  objectId: string;
  appId: string;
  displayName: string;
  kind: string;
  resourceId: string | null;
}

export interface VaultPolicies {
  vaultId: string;
  entries: readonly AccessPolicyEntry[];
}

export interface AccessReviewDeps {
  index: AuthzIndex;
  identities(): Promise<ReviewIdentity[]>;
  accessPolicies(): Promise<VaultPolicies[]>;
  usage(q: { since: number; until: number; principalId?: string | undefined }): Promise<UsageRow[]>;
}

export interface UsedAction {
  action: string;
  dataAction: boolean;
  /** How it was authorized: RBAC, or a vault's access policy (then `permission` is e.g. secrets/get). */
  via: 'rbac' | 'accessPolicy';
  permission?: string;
  scopes: string[];
  count: number;
  lastUsed: string;
}

export interface DeniedAction {
  action: string;
  dataAction: boolean;
  scopes: string[];
  count: number;
  lastAttempt: string;
}

export interface GrantReview {
  kind: 'roleAssignment' | 'accessPolicy';
  scope: string;
  roleName?: string;
  roleDefinitionId?: string;
  assignmentId?: string;
  condition?: string;
  permissions?: Partial<Record<PermissionKind, string[]>>;
  /** Used actions this grant covers (at the scopes they were used). */
  usedActions: string[];
  used: boolean;
}

export interface SuggestedRole {
  roleName: string;
  roleDefinitionId: string;
  scope: string;
  covers: string[];
  /**
   * Other built-in roles covering the same actions, narrowest first (at most 3). The breadth measure can rank a
   * service-specific role first when it is a strict subset of the general-purpose one; these name the others.
   */
  alternatives: string[];
}

export interface IdentityReview {
  principalId: string;
  appId: string;
  displayName: string;
  kind: string;
  resourceId: string | null;
  grants: GrantReview[];
  used: UsedAction[];
  denied: DeniedAction[];
  suggestion: {
    roles: SuggestedRole[];
    accessPolicies: { vaultId: string; permissions: Partial<Record<PermissionKind, string[]>> }[];
    /** Used actions no built-in role grants (custom role territory). */
    uncovered: string[];
    /** Grants that covered nothing used: candidates for removal. */
    unusedGrants: string[];
  };
  findings: string[];
}

export interface AccessReview {
  since: string;
  until: string;
  identities: IdentityReview[];
  notes: string[];
}

const NOTES = [
  'Used = ARM mutations that succeeded and data-plane requests that were authorized, from the audit trail; ARM reads (GET) are not audited, as in Azure, so read-only use of a role does not show.',
  'Suggestions are built-in roles from the engine catalog, each at the narrowest scope covering where its actions were used (a storage account rather than its blob service; the parent of a resource the identity created).',
];

const POLICY_ACTION = /^(keys|secrets|certificates|storage)\/(\w+) \(access policy; ([^)]+)\)$/i;

interface UseAcc {
  action: string;
  dataAction: boolean;
  via: 'rbac' | 'accessPolicy';
  permission?: string;
  scopes: Map<string, string>;
  count: number;
  last: number;
}

export async function reviewAccess(deps: AccessReviewDeps, opts: { principal?: string | undefined; since: number; until: number }): Promise<AccessReview> {
  let identities = await deps.identities();
  if (opts.principal) {
    const p = opts.principal.toLowerCase();
    identities = identities.filter((i) => i.objectId.toLowerCase() === p || i.appId.toLowerCase() === p);
    if (identities.length === 0) throw new KeylessError(404, 'PrincipalNotFound', `No managed identity or application '${opts.principal}' exists in the directory.`);
  }
  const only = identities.length === 1 ? identities[0]!.objectId : undefined;
  const rows = await deps.usage({ since: opts.since, until: opts.until, principalId: only });
  const vaults = await deps.accessPolicies();
  const byPrincipal = new Map<string, UsageRow[]>();
  for (const r of rows) {
    const k = r.principalId.toLowerCase();
    let l = byPrincipal.get(k);
    if (!l) byPrincipal.set(k, (l = []));
    l.push(r);
  }
  return {
    since: new Date(opts.since).toISOString(),
    until: new Date(opts.until).toISOString(),
    identities: identities.map((i) => reviewIdentity(deps.index, i, byPrincipal.get(i.objectId.toLowerCase()) ?? [], vaults)),
    notes: NOTES,
  };
}

function reviewIdentity(index: AuthzIndex, who: ReviewIdentity, rows: UsageRow[], vaults: VaultPolicies[]): IdentityReview {
  const used = new Map<string, UseAcc>();
  const denied = new Map<string, UseAcc>();
  for (const r of rows) {
    const policy = r.category === 'data' ? POLICY_ACTION.exec(r.operation) : null;
    const action = policy ? policy[3]!.trim() : r.operation;
    const dataAction = policy ? true : r.category === 'data' ? isDataActionName(action) : false;
    // Authorized = an ARM mutation that went through, or any data-plane request the decision let in.
    const authorized = r.category === 'activity' ? r.result === 'succeeded' : r.result !== 'denied';
    if (r.category === 'activity' && !authorized && r.result !== 'denied') continue;
    // Creating a resource needs the permission where it is created (its parent), not on itself.
    const scope = r.category === 'activity' && r.httpStatus === 201 && /\/write$/i.test(action) ? (parentOf(r.scope) ?? r.scope) : r.scope;
    const target = authorized ? used : denied;
    const key = `${policy ? 'p' : 'r'}|${normalizeAction(action)}|${dataAction}`;
    let acc = target.get(key);
    if (!acc) {
      acc = { action, dataAction, via: policy ? 'accessPolicy' : 'rbac', scopes: new Map(), count: 0, last: 0 };
      if (policy) acc.permission = `${policy[1]!.toLowerCase()}/${policy[2]!.toLowerCase()}`;
      target.set(key, acc);
    }
    acc.scopes.set(scope.toLowerCase(), scope);
    acc.count += r.count;
    acc.last = Math.max(acc.last, r.lastAt);
  }
  const usedList = [...used.values()];

  const grants: GrantReview[] = [];
  for (const a of index.assignmentsOfPrincipal(who.objectId)) grants.push(reviewAssignment(index, a, usedList));
  for (const v of vaults) {
    for (const e of v.entries) {
      if (e.objectId.toLowerCase() !== who.objectId.toLowerCase()) continue;
      const covers = usedList.filter((u) => u.via === 'accessPolicy' && u.permission && [...u.scopes.keys()].some((s) => isUnder(v.vaultId, s)) && entryGrants(e, u.permission));
      grants.push({ kind: 'accessPolicy', scope: v.vaultId, permissions: e.permissions, usedActions: covers.map((u) => u.permission!), used: covers.length > 0 });
    }
  }

  const rbacUsed = usedList.filter((u) => u.via === 'rbac');
  const { roles, uncovered } = suggest(index, rbacUsed);
  const accessPolicies = suggestPolicies(usedList.filter((u) => u.via === 'accessPolicy'), vaults);
  const unusedGrants = grants.filter((g) => !g.used).map(describeGrant);
  const findings = explainFindings(index, grants, usedList, [...denied.values()], roles, uncovered);

  return {
    principalId: who.objectId,
    appId: who.appId,
    displayName: who.displayName,
    kind: who.kind,
    resourceId: who.resourceId,
    grants,
    used: usedList.map((u) => ({
      action: u.action,
      dataAction: u.dataAction,
      via: u.via,
      ...(u.permission ? { permission: u.permission } : {}),
      scopes: [...u.scopes.values()].sort(),
      count: u.count,
      lastUsed: new Date(u.last).toISOString(),
    })),
    denied: [...denied.values()].map((u) => ({ action: u.action, dataAction: u.dataAction, scopes: [...u.scopes.values()].sort(), count: u.count, lastAttempt: new Date(u.last).toISOString() })),
    suggestion: { roles, accessPolicies, uncovered, unusedGrants },
    findings,
  };
}

function reviewAssignment(index: AuthzIndex, a: RoleAssignment, used: UseAcc[]): GrantReview {
  const role = index.compiledRole(roleDefinitionGuid(a.roleDefinitionId));
  const covers = role
    ? used.filter((u) => u.via === 'rbac' && role.grant(normalizeAction(u.action), u.dataAction).kind !== 'none' && [...u.scopes.values()].some((s) => isUnder(a.scope, s)))
    : [];
  const g: GrantReview = {
    kind: 'roleAssignment',
    scope: a.scope,
    roleName: role?.role.roleName ?? a.roleDefinitionId,
    roleDefinitionId: a.roleDefinitionId,
    assignmentId: a.id,
    usedActions: covers.map((u) => u.action),
    used: covers.length > 0,
  };
  if (a.condition) g.condition = a.condition;
  return g;
}

/** Weighted greedy set cover over the engine's suggestions: most actions covered per unit of breadth first. */
function suggest(index: AuthzIndex, used: UseAcc[]): { roles: SuggestedRole[]; uncovered: string[] } {
  const needs = used.map((u) => ({ u, key: normalizeAction(u.action), scope: narrowestScope([...u.scopes.values()]) }));
  const candidates = new Map<string, { guid: string; name: string; id: string; rank: number }>();
  for (const n of needs) {
    suggestRoles(index, n.u.action, n.u.dataAction, n.scope).forEach((s, rank) => {
      if (s.conditional) return;
      const prev = candidates.get(s.name);
      if (!prev || rank < prev.rank) candidates.set(s.name, { guid: s.name, name: s.roleName, id: s.id, rank });
    });
  }
  let remaining = needs;
  const roles: SuggestedRole[] = [];
  while (remaining.length > 0) {
    type Option = { c: { guid: string; name: string; id: string; rank: number }; covers: typeof needs; cost: number };
    const options: Option[] = [];
    for (const c of candidates.values()) {
      const role = index.compiledRole(c.guid);
      if (!role) continue;
      const covers = remaining.filter((n) => role.grant(n.key, n.u.dataAction).kind === 'unconditional');
      if (covers.length === 0) continue;
      options.push({ c, covers, cost: Math.max(1, roleBreadth(role, true).score + roleBreadth(role, false).score) });
    }
    const ranked = options.sort((x, y) => (better(x.covers.length / x.cost, x.covers.length, x.c, y.covers.length / y.cost, y.covers.length, y.c) ? -1 : 1));
    const chosen = ranked[0];
    if (!chosen) break;
    const alternatives = ranked
      .slice(1)
      .filter((o) => chosen.covers.every((n) => o.covers.includes(n)))
      .slice(0, 3)
      .map((o) => o.c.name);
    roles.push({ roleName: chosen.c.name, roleDefinitionId: chosen.c.id, scope: narrowestScope(chosen.covers.map((n) => n.scope)), covers: chosen.covers.map((n) => n.u.action), alternatives });
    remaining = remaining.filter((n) => !chosen.covers.includes(n));
  }
  return { roles, uncovered: remaining.map((n) => n.u.action) };
}

function better(ratio: number, covered: number, c: { rank: number; name: string }, bestRatio: number, bestCovered: number, b: { rank: number; name: string }): boolean {
  if (ratio !== bestRatio) return ratio > bestRatio;
  if (covered !== bestCovered) return covered > bestCovered;
  if (c.rank !== b.rank) return c.rank < b.rank;
  return c.name.localeCompare(b.name) < 0;
}

/** The smallest access-policy permission set per vault that covers what was used through policies. */
function suggestPolicies(used: UseAcc[], vaults: VaultPolicies[]): { vaultId: string; permissions: Partial<Record<PermissionKind, string[]>> }[] {
  const out = new Map<string, { vaultId: string; permissions: Partial<Record<PermissionKind, string[]>> }>();
  for (const u of used) {
    if (!u.permission) continue;
    const [kind, perm] = u.permission.split('/') as [PermissionKind, string];
    for (const scope of u.scopes.values()) {
      const vault = vaults.find((v) => isUnder(v.vaultId, scope));
      const vaultId = vault?.vaultId ?? scope.replace(/\/(secrets|keys|certificates)\/.*$/i, '');
      let s = out.get(vaultId.toLowerCase());
      if (!s) out.set(vaultId.toLowerCase(), (s = { vaultId, permissions: {} }));
      const list = (s.permissions[kind] ??= []);
      if (!list.includes(perm)) list.push(perm);
    }
  }
  return [...out.values()];
}

function explainFindings(index: AuthzIndex, grants: GrantReview[], used: UseAcc[], denied: UseAcc[], roles: SuggestedRole[], uncovered: string[]): string[] {
  const out: string[] = [];
  const usedData = used.some((u) => u.dataAction);
  for (const g of grants) {
    if (g.used) continue;
    if (g.kind === 'accessPolicy') {
      out.push(`The access policy on ${g.scope} granted nothing this identity used in the window.`);
      continue;
    }
    const role = index.compiledRole(roleDefinitionGuid(g.roleDefinitionId ?? ''));
    const noData = role !== undefined && role.blocks.every((b) => b.dataActions.length === 0);
    const readOnly = role !== undefined && role.role.permissions.every((p) => p.actions.every((a) => /\/read$|^\*\/read$/i.test(a.trim())));
    let why = '';
    if (noData && usedData) why = ` ${g.roleName} has no data actions, so it cannot grant the data-plane access this identity used.`;
    else if (readOnly) why = ' (It only grants reads, and ARM reads are not audited.)';
    out.push(`${g.roleName} at ${g.scope} granted nothing this identity used in the window: consider removing it.${why}`);
  }
  if (roles.length > 0) {
    const suggested = roles.map((r) => `${r.roleName} at ${r.scope}`).join('; ');
    const current = grants.filter((g) => g.kind === 'roleAssignment' && g.used);
    const same = current.length === roles.length && roles.every((r) => current.some((g) => g.roleDefinitionId && roleDefinitionGuid(g.roleDefinitionId) === roleDefinitionGuid(r.roleDefinitionId) && g.scope.toLowerCase() === r.scope.toLowerCase()));
    out.push(same ? `Least privilege already: ${suggested}.` : `Least privilege for what was used: ${suggested}.`);
  }
  if (uncovered.length > 0) out.push(`No built-in role grants ${uncovered.join(', ')} on its own: a custom role would be needed.`);
  for (const d of denied) out.push(`Denied ${d.count} time(s): ${d.action} at ${[...d.scopes.values()].join(', ')}.`);
  if (used.length === 0 && grants.length > 0) out.push('Nothing was used in the window.');
  return out;
}

function describeGrant(g: GrantReview): string {
  return g.kind === 'roleAssignment' ? `${g.roleName} at ${g.scope}${g.assignmentId ? ` (${g.assignmentId})` : ''}` : `access policy on ${g.scope}`;
}

function entryGrants(e: AccessPolicyEntry, permission: string): boolean {
  const [kind, perm] = permission.split('/') as [PermissionKind, string];
  return (e.permissions[kind] ?? []).some((p) => p.toLowerCase() === perm || p.toLowerCase() === 'all');
}

function isUnder(ancestor: string, scope: string): boolean {
  try {
    return isAncestorOrSelf(ancestor, scope);
  } catch {
    return false;
  }
}

function parentOf(id: string): string | undefined {
  return tryParseScope(id)?.parent?.id;
}

/** Service singletons (`…/blobServices/default`) and Microsoft.Authorization extension resources are not where roles get assigned. */
function assignable(s: Scope): Scope {
  let cur: Scope | undefined = s;
  while (cur && cur.level === 'resource' && (/\/(blob|file|queue|table)Services$/i.test(cur.resourceType ?? '') || /^Microsoft\.Authorization\//i.test(cur.resourceType ?? ''))) cur = cur.parent;
  return cur ?? s;
}

/** The deepest scope enclosing all of `scopes` (their common ancestor), rounded up to an assignable one. */
export function narrowestScope(scopes: readonly string[]): string {
  const parsed = scopes.map((s) => tryParseScope(s)).filter((s): s is Scope => s !== undefined);
  if (parsed.length === 0) return '/';
  let common: readonly Scope[] = [...parsed[0]!.ancestors()].reverse();
  for (const p of parsed.slice(1)) {
    const chain = [...p.ancestors()].reverse();
    let i = 0;
    while (i < common.length && i < chain.length && common[i]!.key === chain[i]!.key) i++;
    common = common.slice(0, i);
  }
  const deepest = common[common.length - 1];
  return deepest ? assignable(deepest).id : '/';
}
