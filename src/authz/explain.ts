/**
 * Explanations: the decision re-walked with tracing, for audit, `keyless access check` and error bodies.
 * Never on the hot path: decide() returns a Decision whose explain() calls into here lazily.
 */
import { firstMatch, normalizeAction, actionProvider, type ActionPattern } from '../core/actions.js';
import { builtinRoles } from './builtin-roles.js';
import type { ConditionContext } from './conditions/index.js';
import { conditionContext, denyCoversAction, denyCoversPrincipal, normalizePrincipalId, safeEvaluate } from './decide.js';
import type { AuthzIndex, CompiledBlock, CompiledRole, IndexedAssignment } from './index.js';
import { roleBreadth } from './role-breadth.js';
import type { AccessRequest, AssignmentTrace, DenyTrace, Explanation, RoleSuggestion } from './types.js';

const MAX_SUGGESTIONS = 5;

const planeName = (isData: boolean): string => (isData ? 'DataActions' : 'Actions');
const notPlaneName = (isData: boolean): string => (isData ? 'NotDataActions' : 'NotActions');

interface BlockVerdict {
  outcome: AssignmentTrace['outcome'];
  pattern?: string;
  conditionSource?: 'assignment' | 'role';
  detail: string;
}

function traceRole(role: CompiledRole, a: IndexedAssignment | undefined, action: string, isData: boolean, ctx: () => ConditionContext): BlockVerdict {
  let excluded: { allow: ActionPattern; not: ActionPattern } | undefined;
  let roleConditionFailed: ActionPattern | undefined;
  let matchedButAssignmentFailed: ActionPattern | undefined;
  for (const b of role.blocks) {
    const allow = firstMatch(isData ? b.dataActions : b.actions, action);
    if (allow === undefined) continue;
    const not = firstMatch(isData ? b.notDataActions : b.notActions, action);
    if (not !== undefined) {
      excluded ??= { allow, not };
      continue;
    }
    if (b.condition !== undefined && !safeEvaluate(b.condition, ctx())) {
      roleConditionFailed ??= allow;
      continue;
    }
    if (a?.condition !== undefined && !safeEvaluate(a.condition, ctx())) {
      matchedButAssignmentFailed ??= allow;
      continue;
    }
    return { outcome: 'granted', pattern: allow.source, detail: `granted by '${allow.source}' in ${planeName(isData)}${conditionNote(b, a)}` };
  }
  if (matchedButAssignmentFailed !== undefined) {
    return {
      outcome: 'condition-false',
      pattern: matchedButAssignmentFailed.source,
      conditionSource: 'assignment',
      detail: `'${matchedButAssignmentFailed.source}' in ${planeName(isData)} matches, but the assignment's ABAC condition is not met`,
    };
  }
  if (roleConditionFailed !== undefined) {
    return {
      outcome: 'condition-false',
      pattern: roleConditionFailed.source,
      conditionSource: 'role',
      detail: `'${roleConditionFailed.source}' in ${planeName(isData)} matches, but the role's condition on that permission block is not met`,
    };
  }
  if (excluded !== undefined) {
    return {
      outcome: 'excluded-by-not-actions',
      pattern: excluded.not.source,
      detail: `'${excluded.allow.source}' in ${planeName(isData)} matches, but '${excluded.not.source}' in ${notPlaneName(isData)} removes it (NotActions only subtract from the same role; they are not a deny)`,
    };
  }
  for (const b of role.blocks) {
    const other = firstMatch(isData ? b.actions : b.dataActions, action);
    if (other !== undefined) {
      return {
        outcome: 'plane-mismatch',
        pattern: other.source,
        detail: isData
          ? `'${other.source}' is a control-plane grant (Actions); this is a data action and needs a DataActions grant`
          : `'${other.source}' is a data-plane grant (DataActions); this is a control-plane action and needs an Actions grant`,
      };
    }
  }
  return { outcome: 'action-not-in-actions', detail: `no ${planeName(isData)} pattern of the role matches the action` };
}

function conditionNote(b: CompiledBlock, a: IndexedAssignment | undefined): string {
  const parts: string[] = [];
  if (b.condition !== undefined) parts.push("the role's condition");
  if (a?.condition !== undefined) parts.push("the assignment's condition");
  return parts.length === 0 ? '' : ` (${parts.join(' and ')} met)`;
}

/** Re-walks a request with tracing. The verdict is decide()'s own, so the two can never disagree. */
export function explainAccess(index: AuthzIndex, req: AccessRequest): Explanation {
  const verdict = index.decide(req);
  const walk = index.walk(req.scope);
  const action = normalizeAction(req.action);
  const principalKey = normalizePrincipalId(req.principalId);
  const groupKeys = (req.groupIds ?? []).map(normalizePrincipalId);
  let ctx: ConditionContext | undefined;
  const lazyCtx = (): ConditionContext => (ctx ??= conditionContext(req));

  const denyAssignments: DenyTrace[] = [];
  walk.keys.forEach((key, i) => {
    for (const d of index.denyAt(key) ?? []) {
      const base: Pick<DenyTrace, 'denyAssignmentId' | 'name' | 'denyAssignmentName' | 'scope'> = { denyAssignmentId: d.deny.id, name: d.deny.name, denyAssignmentName: d.deny.denyAssignmentName, scope: d.deny.scope };
      if (i > 0 && d.deny.doNotApplyToChildScopes) {
        denyAssignments.push({ ...base, outcome: 'not-inherited', detail: 'doNotApplyToChildScopes: applies only at its own scope' });
      } else if ([principalKey, ...groupKeys].some((p) => d.excluded.has(p))) {
        denyAssignments.push({ ...base, outcome: 'principal-excluded', detail: 'the caller (or one of its groups) is in excludePrincipals' });
      } else if (!denyCoversPrincipal(d, principalKey, groupKeys)) {
        denyAssignments.push({ ...base, outcome: 'principal-not-covered', detail: 'the caller and its groups are not among the principals' });
      } else if (!denyCoversAction(d, action, req.isDataAction)) {
        denyAssignments.push({ ...base, outcome: 'action-not-covered', detail: `the action is not in the deny assignment's ${planeName(req.isDataAction)} (or is in its ${notPlaneName(req.isDataAction)})` });
      } else {
        denyAssignments.push({ ...base, outcome: 'applied', detail: 'deny assignments take precedence over role assignments' });
      }
    }
  });

  const assignments: AssignmentTrace[] = [];
  const who = [{ key: principalKey, group: undefined as string | undefined }, ...(req.groupIds ?? []).map((g, i) => ({ key: groupKeys[i]!, group: g }))];
  for (const key of walk.keys) {
    for (const w of who) {
      for (const a of index.assignmentsAt(w.key, key) ?? []) {
        const role = index.compiledRole(a.roleGuid);
        const written = a.assignment;
        const base = {
          assignmentId: written.id,
          assignmentName: written.name,
          principalId: written.principalId,
          scope: written.scope,
          roleDefinitionId: written.roleDefinitionId,
        };
        const trace: AssignmentTrace =
          role === undefined
            ? { ...base, outcome: 'role-not-found', detail: `role definition '${written.roleDefinitionId}' does not exist` }
            : { ...base, roleName: role.role.roleName, ...traceRole(role, a, action, req.isDataAction, lazyCtx) };
        if (w.group !== undefined) trace.viaGroup = w.group;
        assignments.push(trace);
      }
    }
  }

  return {
    request: {
      principalId: req.principalId,
      groupIds: [...(req.groupIds ?? [])],
      action: req.action,
      isDataAction: req.isDataAction,
      scope: req.scope,
    },
    allowed: verdict.allowed,
    reason: verdict.reason,
    scopesChecked: [...walk.ids],
    assignments,
    denyAssignments,
    suggestions: suggestRoles(index, req.action, req.isDataAction, req.scope),
  };
}

interface Candidate extends RoleSuggestion {
  readonly broad: boolean;
  readonly total: number;
  readonly foreign: number;
  readonly special: boolean;
}

/** Preview roles may change or disappear; recommend them only after general-availability ones. */
const SPECIAL_ROLE = /\(preview\)/i;

/**
 * Built-in roles that would grant `action` on the given plane at `scope`, narrowest first (at most 5).
 *
 * Narrowest = smallest total breadth over both planes (catalog operations granted plus one per pattern for a
 * provider outside the catalog, Azure's standard companion grants ignored — see role-breadth.ts): least privilege
 * is about everything a role hands out, not only the plane asked about. Ties: breadth on the request's plane,
 * fewer foreign patterns, name. Roles whose only grant is a provider-less wildcard (`*`, `*\/read`) are dropped
 * when any role grants the action through a provider-specific pattern ("Owner" is never useful advice).
 * Conditional grants rank after unconditional ones (they may still refuse), and preview roles after
 * generally available ones.
 */
export function suggestRoles(index: AuthzIndex, actionInput: string, isDataAction: boolean, scope?: string): RoleSuggestion[] {
  const action = normalizeAction(actionInput);
  const candidates: Candidate[] = [];
  for (const def of builtinRoles()) {
    if (scope !== undefined && !index.isAssignableAt(def, scope)) continue;
    const role = index.compiledRole(def.name);
    if (role === undefined) continue;
    const g = role.grant(action, isDataAction);
    if (g.kind === 'none') continue;
    const grantedBy = grantingPattern(role, action, isDataAction);
    if (grantedBy === undefined) continue;
    const breadth = roleBreadth(role, isDataAction);
    candidates.push({
      roleName: def.roleName,
      id: def.id,
      name: def.name,
      breadth: breadth.score,
      grantedBy: grantedBy.source,
      conditional: g.kind === 'conditional',
      broad: actionProvider(grantedBy.key) === undefined,
      total: breadth.score + roleBreadth(role, !isDataAction).score,
      foreign: breadth.foreignPatterns,
      special: SPECIAL_ROLE.test(def.roleName),
    });
  }
  const narrowExists = candidates.some((c) => !c.broad);
  return candidates
    .filter((c) => !narrowExists || !c.broad)
    .sort(
      (x, y) =>
        Number(x.conditional) - Number(y.conditional) ||
        Number(x.special) - Number(y.special) ||
        x.total - y.total ||
        x.breadth - y.breadth ||
        x.foreign - y.foreign ||
        x.roleName.localeCompare(y.roleName),
    )
    .slice(0, MAX_SUGGESTIONS)
    .map(({ roleName, id, name, breadth, grantedBy, conditional }) => ({ roleName, id, name, breadth, grantedBy, conditional }));
}

function grantingPattern(role: CompiledRole, action: string, isData: boolean): ActionPattern | undefined {
  for (const b of role.blocks) {
    const allow = firstMatch(isData ? b.dataActions : b.actions, action);
    if (allow !== undefined && firstMatch(isData ? b.notDataActions : b.notActions, action) === undefined) return allow;
  }
  return undefined;
}

// ---- rendering -----------------------------------------------------------------------------------------------

/** Control characters would let a caller forge lines in logs or headers. */
// eslint-disable-next-line no-control-regex -- neutralizing control characters is the point
const clean = (s: string): string => s.replace(/[\u0000-\u001f\u007f]/g, '?');

const REASON_TEXT: Record<Explanation['reason'], string> = {
  allowed: 'ALLOWED',
  'denied-by-deny-assignment': 'DENIED by a deny assignment',
  'no-matching-assignment': 'DENIED: no role assignment grants the action',
  'condition-false': 'DENIED: a role assignment grants the action but its ABAC condition is not met',
  'authz-off': 'ALLOWED (authorization is off)',
};

/** The multi-line human form (`keyless access check`). */
export function renderExplanation(e: Explanation): string {
  const r = e.request;
  const lines: string[] = [];
  lines.push(`Access check: ${REASON_TEXT[e.reason]}`);
  lines.push(`  principal: ${clean(r.principalId)}${r.groupIds.length > 0 ? ` (groups: ${r.groupIds.map(clean).join(', ')})` : ''}`);
  lines.push(`  action:    ${clean(r.action)} (${r.isDataAction ? 'data action' : 'control-plane action'})`);
  lines.push(`  scope:     ${clean(r.scope)}`);
  lines.push('Scopes checked (narrowest first):');
  for (const s of e.scopesChecked) lines.push(`  ${clean(s)}`);
  lines.push('Deny assignments:');
  if (e.denyAssignments.length === 0) lines.push('  (none at these scopes)');
  for (const d of e.denyAssignments) lines.push(`  - ${clean(d.name)}${d.denyAssignmentName !== undefined ? ` '${clean(d.denyAssignmentName)}'` : ''} at ${clean(d.scope)}: ${d.outcome} — ${clean(d.detail)}`);
  lines.push('Role assignments considered:');
  if (e.assignments.length === 0) lines.push('  (none for this principal or its groups at these scopes)');
  for (const a of e.assignments) {
    const via = a.viaGroup !== undefined ? ` via group ${clean(a.viaGroup)}` : '';
    lines.push(`  - '${clean(a.roleName ?? a.roleDefinitionId)}' at ${clean(a.scope)}${via} [${clean(a.assignmentName)}]: ${a.outcome} — ${clean(a.detail)}`);
  }
  if (!e.allowed || e.reason === 'authz-off') {
    lines.push('Built-in roles that would grant this action here (narrowest first):');
    if (e.suggestions.length === 0) lines.push('  (none)');
    for (const s of e.suggestions) {
      lines.push(`  - ${s.roleName} (${s.name}) — via '${s.grantedBy}', ${s.breadth} operation(s) on this plane${s.conditional ? ', conditional' : ''}`);
    }
  }
  return lines.join('\n');
}

/**
 * One line, safe for error bodies and headers: principal id, action, scope and the nearest granting role;
 * never request attributes or condition text.
 */
export function summarizeExplanation(e: Explanation): string {
  const r = e.request;
  const plane = r.isDataAction ? 'data action' : 'action';
  const who = `principal ${clean(r.principalId)}`;
  const what = `${plane} '${clean(r.action)}' at '${clean(r.scope)}'`;
  const nearest = e.suggestions[0];
  const hint = nearest !== undefined ? `; a role that would grant it: '${nearest.roleName}'` : '';
  switch (e.reason) {
    case 'allowed': {
      const g = e.assignments.find((a) => a.outcome === 'granted');
      return allowedSummary(r, g && { role: g.roleName ?? g.roleDefinitionId, scope: g.scope });
    }
    case 'authz-off':
      return `allowed (authorization off): ${who}, ${what}`;
    case 'denied-by-deny-assignment': {
      const d = e.denyAssignments.find((x) => x.outcome === 'applied');
      return `denied: deny assignment '${clean(d?.denyAssignmentName ?? d?.name ?? '?')}' at '${clean(d?.scope ?? '?')}' blocks ${what} for ${who}`;
    }
    case 'condition-false':
      return `denied: ${who} holds a role granting ${what}, but its ABAC condition is not met${hint}`;
    case 'no-matching-assignment':
      return `denied: no role assignment of ${who} grants ${what}${hint}`;
  }
}

/**
 * The one-line reason of a granted request. Built from the decision alone (no trace), so surfaces can record why
 * every granted request was allowed without paying for an explanation.
 */
export function allowedSummary(r: { principalId: string; action: string; scope: string; isDataAction: boolean }, via?: { role: string; scope: string }): string {
  const plane = r.isDataAction ? 'data action' : 'action';
  const what = `${plane} '${clean(r.action)}' at '${clean(r.scope)}'`;
  return `allowed: principal ${clean(r.principalId)} may perform ${what}${via !== undefined ? ` via '${clean(via.role)}' assigned at '${clean(via.scope)}'` : ''}`;
}
