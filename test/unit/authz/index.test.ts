import { describe, it, expect, beforeEach } from 'vitest';
import { AuthzIndex, OWNER_ROLE_GUID } from '../../../src/authz/index.js';
import { KeylessError } from '../../../src/core/errors.js';
import { ALICE, BOB, GROUP, RG, SUB, SUB_ID, VAULT, VM, assignment, customRole, role } from './fixtures.js';

let index: AuthzIndex;
beforeEach(() => {
  index = new AuthzIndex();
});

const readVm = (principalId = ALICE) => index.decide({ principalId, action: 'Microsoft.Compute/virtualMachines/read', isDataAction: false, scope: VM }).allowed;

describe('AuthzIndex: role assignments', () => {
  it('upsert by name replaces (moving scope or principal), remove forgets', () => {
    const a = assignment(ALICE, role('Reader'), RG, { name: '11111111-0000-4000-8000-000000000001' });
    index.upsertRoleAssignment(a);
    expect(readVm()).toBe(true);
    index.upsertRoleAssignment({ ...a, scope: `${SUB}/resourceGroups/elsewhere` });
    expect(readVm()).toBe(false);
    expect(index.assignmentCount).toBe(1);
    index.upsertRoleAssignment({ ...a, principalId: BOB });
    expect(readVm(ALICE)).toBe(false);
    expect(readVm(BOB)).toBe(true);
    expect(index.removeRoleAssignment('11111111-0000-4000-8000-000000000001'.toUpperCase())).toBe(true);
    expect(index.removeRoleAssignment('11111111-0000-4000-8000-000000000001')).toBe(false);
    expect(readVm(BOB)).toBe(false);
    expect(index.assignmentCount).toBe(0);
  });

  it('rejects an invalid scope with LinkedInvalidPropertyId', () => {
    try {
      index.upsertRoleAssignment(assignment(ALICE, role('Reader'), '/subscriptions/x/resourceGroups'));
      expect.unreachable();
    } catch (e) {
      expect((e as KeylessError).code).toBe('LinkedInvalidPropertyId');
    }
  });

  it('finds duplicates (same principal, role GUID and scope, any casing)', () => {
    const a = assignment(ALICE, role('Reader'), RG);
    index.upsertRoleAssignment(a);
    expect(index.findDuplicate({ scope: RG.toUpperCase().replace('/SUBSCRIPTIONS', '/subscriptions'), principalId: ALICE.toUpperCase(), roleDefinitionId: `${SUB}/providers/Microsoft.Authorization/roleDefinitions/${role('Reader').name}` })?.name).toBe(a.name);
    expect(index.findDuplicate({ scope: RG, principalId: ALICE, roleDefinitionId: role('Owner').id })).toBeUndefined();
    expect(index.findDuplicate({ scope: SUB, principalId: ALICE, roleDefinitionId: role('Reader').id })).toBeUndefined();
  });

  it('lists by scope and by principal, counts by role', () => {
    index.upsertRoleAssignment(assignment(ALICE, role('Reader'), RG));
    index.upsertRoleAssignment(assignment(BOB, role('Reader'), RG));
    index.upsertRoleAssignment(assignment(ALICE, role('Owner'), SUB));
    expect(index.assignmentsAtScope(RG.toLowerCase()).map((a) => a.principalId).sort()).toEqual([ALICE, BOB].sort());
    expect(index.assignmentsOfPrincipal(ALICE)).toHaveLength(2);
    expect(index.countAssignmentsOfRole(role('Reader').name)).toBe(2);
    expect(index.countAssignmentsOfRole(role('Owner').id)).toBe(1);
    expect(index.countAssignmentsOfRole(role('Contributor').id)).toBe(0);
  });

  it('detects the last Owner at subscription scope', () => {
    const first = assignment(ALICE, role('Owner'), SUB);
    const second = assignment(BOB, role('Owner'), SUB);
    const rgOwner = assignment(BOB, role('Owner'), RG);
    index.upsertRoleAssignment(first);
    index.upsertRoleAssignment(rgOwner);
    expect(OWNER_ROLE_GUID).toBe(role('Owner').name);
    expect(index.isLastSubscriptionOwner(first.name)).toBe(true);
    expect(index.isLastSubscriptionOwner(rgOwner.name)).toBe(false);
    index.upsertRoleAssignment(second);
    expect(index.isLastSubscriptionOwner(first.name)).toBe(false);
    index.removeRoleAssignment(second.name);
    expect(index.isLastSubscriptionOwner(first.name)).toBe(true);
  });
});

describe('AuthzIndex: custom roles and assignability', () => {
  it('looks roles up by GUID or full id, custom first, built-in otherwise', () => {
    const custom = customRole('c0ffee00-0000-4000-8000-000000000002', 'Custom Reader', [{ actions: ['*/read'], notActions: [], dataActions: [], notDataActions: [] }]);
    index.upsertRoleDefinition(custom);
    expect(index.getRoleDefinition(custom.id)?.roleName).toBe('Custom Reader');
    expect(index.getRoleDefinition('C0FFEE00-0000-4000-8000-000000000002')?.roleName).toBe('Custom Reader');
    expect(index.getRoleDefinition(role('Owner').name)?.roleName).toBe('Owner');
    expect(index.customRoleDefinitions()).toHaveLength(1);
    expect(index.getRoleDefinition('deadbeef-0000-4000-8000-000000000000')).toBeUndefined();
  });

  it('isAssignableAt follows assignable scopes downwards, including management groups', () => {
    const custom = customRole('c0ffee00-0000-4000-8000-000000000003', 'Narrow', [], [RG]);
    expect(index.isAssignableAt(custom, VM)).toBe(true);
    expect(index.isAssignableAt(custom, SUB)).toBe(false);
    expect(index.isAssignableAt(role('Owner'), VM)).toBe(true);
    const mgRole = customRole('c0ffee00-0000-4000-8000-000000000004', 'MG', [], ['/providers/Microsoft.Management/managementGroups/Corp']);
    expect(index.isAssignableAt(mgRole, VM)).toBe(false);
    index.setManagementGroup('corp');
    index.setSubscriptionManagementGroup(SUB_ID, 'corp');
    expect(index.isAssignableAt(mgRole, VM)).toBe(true);
  });
});

describe('AuthzIndex: visible subscriptions', () => {
  it('collects subscriptions of the principal and its groups; root means all', () => {
    index.upsertRoleAssignment(assignment(ALICE, role('Reader'), VAULT));
    index.upsertRoleAssignment(assignment(GROUP, role('Reader'), '/subscriptions/FFFF0000-0000-4000-8000-000000000000'));
    expect(index.visibleSubscriptions(ALICE)).toEqual(new Set([SUB_ID]));
    expect(index.visibleSubscriptions(ALICE, [GROUP])).toEqual(new Set([SUB_ID, 'ffff0000-0000-4000-8000-000000000000']));
    expect(index.visibleSubscriptions(BOB)).toEqual(new Set());
    index.upsertRoleAssignment(assignment(BOB, role('Reader'), '/'));
    expect(index.visibleSubscriptions(BOB)).toBe('all');
  });

  it('management-group assignments reveal the subscriptions under the group', () => {
    index.setManagementGroup('corp');
    index.setManagementGroup('apps', 'corp');
    index.setSubscriptionManagementGroup(SUB_ID, 'apps');
    index.upsertRoleAssignment(assignment(ALICE, role('Reader'), '/providers/Microsoft.Management/managementGroups/corp'));
    expect(index.visibleSubscriptions(ALICE)).toEqual(new Set([SUB_ID]));
  });
});

describe('AuthzIndex: decisions do not scan', () => {
  it('decision time does not grow with unrelated assignments', () => {
    const reader = role('Reader');
    index.upsertRoleAssignment(assignment(ALICE, reader, RG));
    const time = (): number => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < 20_000; i++) readVm();
      return Number(process.hrtime.bigint() - start);
    };
    time();
    const before = Math.min(time(), time(), time(), time(), time());
    // 50k assignments for other principals at the same scopes the decision walks
    for (let i = 0; i < 50_000; i++) {
      index.upsertRoleAssignment(assignment(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, reader, i % 2 === 0 ? RG : VM));
    }
    time();
    const after = Math.min(time(), time(), time(), time(), time());
    expect(readVm()).toBe(true);
    // A scan over 50k assignments would be three orders of magnitude slower; the margin absorbs a loaded CI box.
    expect(after).toBeLessThan(before * 20);
  });
});

describe('AuthzIndex: a principal with many assignments (by scope, behind a Bloom filter)', () => {
  it('never misses an assignment through adds, moves and removals, and forgets removed ones', () => {
    // 600 scopes for one principal: more than the 1,024-bit filter can tell apart, so false positives are certain
    // and must only cost a lookup; every scope's answer must equal a brute-force scan of what is held.
    const scopes = Array.from({ length: 600 }, (_, i) => `${SUB}/resourceGroups/rg-${i}`);
    const held = new Map<string, string>();
    let next = 0;
    const name = () => `22222222-0000-4000-8000-${String(next++).padStart(12, '0')}`;
    for (const s of scopes) {
      const n = name();
      index.upsertRoleAssignment(assignment(ALICE, role('Reader'), s, { name: n }));
      held.set(n, s);
    }
    // Remove every third, move every seventh elsewhere.
    [...held].forEach(([n, s], i) => {
      if (i % 3 === 0) {
        index.removeRoleAssignment(n);
        held.delete(n);
      } else if (i % 7 === 0) {
        const moved = `${SUB}/resourceGroups/moved-${i}`;
        index.upsertRoleAssignment(assignment(ALICE, role('Reader'), moved, { name: n }));
        held.set(n, moved);
        void s;
      }
    });
    const expected = new Set([...held.values()].map((s) => s.toLowerCase()));
    for (const s of [...scopes, ...scopes.map((_, i) => `${SUB}/resourceGroups/moved-${i}`)]) {
      const at = index.assignmentsAt(ALICE.toLowerCase(), s.toLowerCase()) ?? [];
      expect(at.length > 0, s).toBe(expected.has(s.toLowerCase()));
      const decision = index.decide({ principalId: ALICE, action: 'Microsoft.Compute/virtualMachines/read', isDataAction: false, scope: `${s}/providers/Microsoft.Compute/virtualMachines/vm` });
      expect(decision.allowed, s).toBe(expected.has(s.toLowerCase()));
    }
    // Emptied down to nothing, the principal is gone.
    for (const n of held.keys()) index.removeRoleAssignment(n);
    expect(index.assignmentsOfPrincipal(ALICE)).toEqual([]);
    expect(index.bloomSlotsInUse).toBe(0);
    expect(index.decide({ principalId: ALICE, action: 'Microsoft.Compute/virtualMachines/read', isDataAction: false, scope: `${scopes[1]}/providers/Microsoft.Compute/virtualMachines/vm` }).allowed).toBe(false);
  });
});
