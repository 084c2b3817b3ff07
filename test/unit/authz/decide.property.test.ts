/**
 * decide() against an obviously-correct reference: the reference scans every assignment and deny assignment,
 * decides ancestry by string prefixes and an explicit management-group table, matches actions with a naive
 * recursive glob, and evaluates the two test conditions by hand. Nothing in it shares code with the index.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { AuthzIndex } from '../../../src/authz/index.js';
import { builtinRoleByName } from '../../../src/authz/builtin-roles.js';
import type { AccessRequest, DecisionReason, DenyAssignment, Permission, RoleAssignment, RoleDefinition } from '../../../src/authz/types.js';

// ---- the universe ------------------------------------------------------------------------------------------------

const MG_PARENT: Record<string, string | null> = { 'mg-root': null, 'mg-child': 'mg-root' };
const SUB_MG: Record<string, string | null> = { 'sub-one': 'mg-child', 'sub-two': null };
const MG = (n: string) => `/providers/Microsoft.Management/managementGroups/${n}`;

const SCOPES = [
  '/',
  MG('mg-root'),
  MG('mg-child'),
  '/subscriptions/sub-one',
  '/subscriptions/sub-two',
  '/subscriptions/sub-one/resourceGroups/rg1',
  '/subscriptions/sub-one/resourceGroups/rg2',
  '/subscriptions/sub-two/resourceGroups/rg1',
  '/subscriptions/sub-one/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/v1',
  '/subscriptions/sub-one/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/v1/secrets/s1',
  '/subscriptions/sub-one/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/v10',
  '/subscriptions/sub-one/resourceGroups/rg2/providers/Microsoft.KeyVault/vaults/v1',
  '/subscriptions/sub-one/resourceGroups/rg1/providers/Microsoft.Storage/storageAccounts/a1',
  '/subscriptions/sub-one/resourceGroups/rg1/providers/Microsoft.Storage/storageAccounts/a1/blobServices/default/containers/c1',
  '/subscriptions/sub-two/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1',
];

const PATTERNS = [
  '*',
  '*/read',
  'Microsoft.KeyVault/*',
  'Microsoft.KeyVault/vaults/*/read',
  'Microsoft.KeyVault/vaults/secrets/*',
  'Microsoft.KeyVault/vaults/secrets/getSecret/action',
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read',
  'Microsoft.Storage/*',
  'Microsoft.Compute/virtualMachines/*',
  'microsoft.compute/virtualmachines/READ',
  'Microsoft.Authorization/*/Write',
];

const ACTIONS = [
  'Microsoft.KeyVault/vaults/read',
  'Microsoft.KeyVault/vaults/write',
  'Microsoft.KeyVault/vaults/secrets/getSecret/action',
  'Microsoft.KeyVault/vaults/secrets/readMetadata/action',
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read',
  'Microsoft.Storage/storageAccounts/listKeys/action',
  'Microsoft.Compute/virtualMachines/read',
  'Microsoft.Compute/virtualMachines/start/action',
  'Microsoft.Authorization/roleAssignments/write',
];

const PRINCIPALS = ['p1', 'p2', 'P3'];
const GROUPS = ['g1', 'G2'];
const ALL = '00000000-0000-0000-0000-000000000000';

const COND_FLAG = "@Request[Microsoft.Keyless/tests:flag] StringEquals 'yes'";
const COND_MODE = "@Request[Microsoft.Keyless/tests:mode] StringEquals 'on'";
type Attrs = { flag?: string; mode?: string };
const refCondition = (source: string, attrs: Attrs): boolean => (source === COND_FLAG ? attrs.flag === 'yes' : source === COND_MODE ? attrs.mode === 'on' : false);

const BUILTINS = ['Owner', 'Contributor', 'Reader', 'Key Vault Secrets User', 'Storage Blob Data Reader'].map((n) => builtinRoleByName(n)!);

// ---- the reference -------------------------------------------------------------------------------------------

function glob(pattern: string, action: string): boolean {
  const p = pattern.trim().toLowerCase();
  const a = action.trim().toLowerCase();
  const go = (pi: number, ai: number): boolean => {
    if (pi === p.length) return ai === a.length;
    if (p[pi] === '*') {
      for (let k = ai; k <= a.length; k++) if (go(pi + 1, k)) return true;
      return false;
    }
    return ai < a.length && p[pi] === a[ai] && go(pi + 1, ai + 1);
  };
  return go(0, 0) || (p.includes('/*/') && glob(p.replace('/*/', '/'), a));
}

function mgChainOf(target: string): string[] {
  const t = target.toLowerCase();
  let start: string | null = null;
  const sub = /^\/subscriptions\/([^/]+)/.exec(t);
  if (sub !== null) start = SUB_MG[sub[1]!] ?? null;
  const mg = /^\/providers\/microsoft\.management\/managementgroups\/([^/]+)$/.exec(t);
  if (mg !== null) start = mg[1]!;
  const out: string[] = [];
  for (let g = start; g !== null; g = MG_PARENT[g] ?? null) out.push(g);
  return out;
}

function covers(assignedAt: string, target: string): boolean {
  const a = assignedAt.toLowerCase().replace(/\/$/, '') || '/';
  const t = target.toLowerCase();
  if (a === '/') return true;
  if (t === a || t.startsWith(a + '/')) return true;
  const mg = /^\/providers\/microsoft\.management\/managementgroups\/([^/]+)$/.exec(a);
  return mg !== null && mgChainOf(target).includes(mg[1]!);
}

const blockGrants = (b: Permission | DenyAssignment['permissions'][number], action: string, isData: boolean): boolean =>
  isData
    ? b.dataActions.some((p) => glob(p, action)) && !b.notDataActions.some((p) => glob(p, action))
    : b.actions.some((p) => glob(p, action)) && !b.notActions.some((p) => glob(p, action));

function reference(
  roles: RoleDefinition[],
  assignments: RoleAssignment[],
  denies: DenyAssignment[],
  req: AccessRequest,
  attrs: Attrs,
): { allowed: boolean; reason: DecisionReason } {
  const ids = [req.principalId, ...(req.groupIds ?? [])].map((x) => x.toLowerCase());
  for (const d of denies) {
    if (!covers(d.scope, req.scope)) continue;
    if (d.doNotApplyToChildScopes && d.scope.toLowerCase() !== req.scope.toLowerCase()) continue;
    if (d.excludePrincipals.some((p) => ids.includes(p.id.toLowerCase()))) continue;
    if (!d.principals.some((p) => p.id === ALL || ids.includes(p.id.toLowerCase()))) continue;
    if (d.permissions.some((b) => blockGrants(b, req.action, req.isDataAction))) return { allowed: false, reason: 'denied-by-deny-assignment' };
  }
  let involved = false;
  for (const a of assignments) {
    if (!ids.includes(a.principalId.toLowerCase()) || !covers(a.scope, req.scope)) continue;
    const guid = a.roleDefinitionId.split('/').pop()!.toLowerCase();
    const role = roles.find((r) => r.name.toLowerCase() === guid);
    if (role === undefined) continue;
    for (const b of role.permissions) {
      if (!blockGrants(b, req.action, req.isDataAction)) continue;
      if (!b.condition && !a.condition) return { allowed: true, reason: 'allowed' };
      involved = true;
      if (b.condition && !refCondition(b.condition, attrs)) continue;
      if (a.condition && !refCondition(a.condition, attrs)) continue;
      return { allowed: true, reason: 'allowed' };
    }
  }
  return { allowed: false, reason: involved ? 'condition-false' : 'no-matching-assignment' };
}

// ---- generators --------------------------------------------------------------------------------------------------

const recase = (s: string): fc.Arbitrary<string> => fc.constantFrom(s, s.toLowerCase(), s.toUpperCase().replace(/^\/(SUBSCRIPTIONS|PROVIDERS)/, (m) => m.toLowerCase()));
const patterns = (max: number) => fc.uniqueArray(fc.constantFrom(...PATTERNS), { maxLength: max });
const condition = fc.constantFrom<string | undefined>(undefined, undefined, COND_FLAG, COND_MODE);

const permissionArb: fc.Arbitrary<Permission> = fc
  .record({ actions: patterns(3), notActions: patterns(2), dataActions: patterns(3), notDataActions: patterns(2), condition })
  .map(({ condition: c, ...p }) => (c === undefined ? p : { ...p, condition: c, conditionVersion: '2.0' }));

const customRolesArb = fc.array(fc.array(permissionArb, { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 4 }).map((perms) =>
  perms.map(
    (permissions, i): RoleDefinition => ({
      id: `/subscriptions/sub-one/providers/Microsoft.Authorization/roleDefinitions/00000000-0000-4000-8000-00000000000${i}`,
      name: `00000000-0000-4000-8000-00000000000${i}`,
      roleName: `custom ${i}`,
      roleType: 'CustomRole',
      description: '',
      assignableScopes: ['/subscriptions/sub-one'],
      permissions,
    }),
  ),
);

const assignmentArb = (roleIds: string[]) =>
  fc.record({
    principalId: fc.constantFrom(...PRINCIPALS, ...GROUPS).chain((p) => fc.constantFrom(p, p.toUpperCase())),
    scope: fc.constantFrom(...SCOPES).chain(recase),
    roleDefinitionId: fc.constantFrom(...roleIds, '/providers/Microsoft.Authorization/roleDefinitions/deadbeef-0000-4000-8000-000000000000'),
    condition,
    removed: fc.boolean(),
  });

const denyArb = fc.record({
  scope: fc.constantFrom(...SCOPES).chain(recase),
  principals: fc.uniqueArray(fc.constantFrom(ALL, ...PRINCIPALS, ...GROUPS), { minLength: 1, maxLength: 2 }),
  excluded: fc.uniqueArray(fc.constantFrom(...PRINCIPALS, ...GROUPS), { maxLength: 2 }),
  doNotApplyToChildScopes: fc.boolean(),
  permission: fc.record({ actions: patterns(2), notActions: patterns(1), dataActions: patterns(2), notDataActions: patterns(1) }),
});

const requestArb = fc.record({
  principalId: fc.constantFrom(...PRINCIPALS),
  groupIds: fc.subarray(GROUPS),
  action: fc.constantFrom(...ACTIONS).chain((a) => fc.constantFrom(a, a.toLowerCase(), a.toUpperCase())),
  isDataAction: fc.boolean(),
  scope: fc.constantFrom(...SCOPES).chain(recase),
  flag: fc.constantFrom<string | undefined>('yes', 'no', undefined),
  mode: fc.constantFrom<string | undefined>('on', 'off', undefined),
});

const worldArb = customRolesArb.chain((customs) => {
  const roleIds = [...customs, ...BUILTINS].map((r) => r.id);
  return fc.record({
    customs: fc.constant(customs),
    assignments: fc.array(assignmentArb(roleIds), { maxLength: 25 }),
    denies: fc.array(denyArb, { maxLength: 3 }),
    requests: fc.array(requestArb, { minLength: 1, maxLength: 30 }),
  });
});

describe('decide() equals a brute-force reference evaluator', () => {
  it('on random roles, assignments (with removals), deny assignments, groups, management groups and conditions', () => {
    fc.assert(
      fc.property(worldArb, ({ customs, assignments, denies, requests }) => {
        const index = new AuthzIndex();
        index.setManagementGroup('mg-root');
        index.setManagementGroup('mg-child', 'mg-root');
        index.setSubscriptionManagementGroup('sub-one', 'mg-child');
        for (const r of customs) index.upsertRoleDefinition(r);

        const all: (RoleAssignment & { removed: boolean })[] = assignments.map((a, i) => {
          const name = `a0000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
          const ra: RoleAssignment & { removed: boolean } = {
            id: `${a.scope === '/' ? '' : a.scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
            name,
            scope: a.scope,
            roleDefinitionId: a.roleDefinitionId,
            principalId: a.principalId,
            principalType: 'User',
            removed: a.removed,
          };
          if (a.condition !== undefined) {
            ra.condition = a.condition;
            ra.conditionVersion = '2.0';
          }
          return ra;
        });
        for (const a of all) index.upsertRoleAssignment(a);
        for (const a of all) if (a.removed) index.removeRoleAssignment(a.name.toUpperCase());
        const live = all.filter((a) => !a.removed);

        const denyAssignments: DenyAssignment[] = denies.map((d, i) => ({
          id: `${d.scope}/providers/Microsoft.Authorization/denyAssignments/d${i}`,
          name: `d${i}`,
          scope: d.scope,
          doNotApplyToChildScopes: d.doNotApplyToChildScopes,
          principals: d.principals.map((id) => ({ id, type: id === ALL ? 'SystemDefined' : 'User' })),
          excludePrincipals: d.excluded.map((id) => ({ id, type: 'User' })),
          isSystemProtected: true,
          permissions: [d.permission],
        }));
        for (const d of denyAssignments) index.upsertDenyAssignment(d);

        expect(index.assignmentCount).toBe(live.length);
        for (const r of requests) {
          const attrs: Attrs = {};
          const request: Record<string, unknown> = {};
          if (r.flag !== undefined) request['Microsoft.Keyless/tests:flag'] = attrs.flag = r.flag;
          if (r.mode !== undefined) request['Microsoft.Keyless/tests:mode'] = attrs.mode = r.mode;
          const req: AccessRequest = { principalId: r.principalId, groupIds: r.groupIds, action: r.action, isDataAction: r.isDataAction, scope: r.scope, attributes: { request } };
          const got = index.decide(req);
          const want = reference([...customs, ...BUILTINS], live, denyAssignments, req, attrs);
          expect({ allowed: got.allowed, reason: got.reason }).toEqual(want);
          // The explanation re-walks with tracing and must agree with the verdict.
          if (got.allowed) expect(got.explain().assignments.some((t) => t.outcome === 'granted')).toBe(got.reason === 'allowed');
        }
      }),
      { numRuns: 300 },
    );
  });
});
