import { describe, it, expect } from 'vitest';
import { normalizedAction } from '../../../src/authz/decide.js';
import { AuthzIndex, IndexedAssignment } from '../../../src/authz/index.js';
import type { RoleAssignment } from '../../../src/authz/types.js';
import { ALICE, BOB, GROUP, RG, SECRET, SUB, VAULT, VM, assignment, deny, role } from './fixtures.js';

const GET_SECRET = 'Microsoft.KeyVault/vaults/secrets/getSecret/action';

function snapshot(index: AuthzIndex): RoleAssignment[] {
  return [...index.assignmentsOfAll()].sort((a, b) => a.name.localeCompare(b.name));
}

describe('loadRoleAssignments (start-up and resynchronisation bulk path)', () => {
  it('ends in the same state as upserting one by one, later duplicates replacing earlier ones', () => {
    const batch: RoleAssignment[] = [];
    for (let i = 0; i < 60; i++) batch.push(assignment(i % 2 === 0 ? ALICE : BOB, role(i % 3 === 0 ? 'Reader' : 'Key Vault Secrets User'), i % 5 === 0 ? RG : `${SUB}/resourceGroups/rg-${i}`));
    const replaced = { ...batch[4]!, roleDefinitionId: role('Owner').id };
    batch.push(replaced, { ...batch[7]!, name: batch[7]!.name.toUpperCase(), id: batch[7]!.id });
    const bulk = new AuthzIndex();
    bulk.loadRoleAssignments(batch);
    const single = new AuthzIndex();
    for (const a of batch) single.upsertRoleAssignment(a);

    expect(bulk.assignmentCount).toBe(60);
    expect(snapshot(bulk)).toStrictEqual(snapshot(single));
    expect(bulk.getRoleAssignment(replaced.name)?.roleDefinitionId).toBe(role('Owner').id);
    for (const name of ['Reader', 'Key Vault Secrets User', 'Owner']) expect(bulk.countAssignmentsOfRole(role(name).id)).toBe(single.countAssignmentsOfRole(role(name).id));
    expect(bulk.countAssignmentsOfRole(role('Owner').id)).toBe(1);
    expect(bulk.assignmentsAtScope(RG).map((a) => a.name).sort()).toEqual(single.assignmentsAtScope(RG).map((a) => a.name).sort());
    const req = { principalId: ALICE, action: GET_SECRET, isDataAction: true, scope: SECRET };
    expect(bulk.decide(req).matchedAssignment).toStrictEqual(single.decide(req).matchedAssignment);
  });

  it('keeps role reference counts right through replacement and removal', () => {
    const index = new AuthzIndex();
    const a = assignment(ALICE, role('Reader'), RG);
    const b = assignment(BOB, role('Reader'), RG);
    index.loadRoleAssignments([a, b]);
    expect(index.countAssignmentsOfRole(role('Reader').id)).toBe(2);
    index.upsertRoleAssignment({ ...a, roleDefinitionId: role('Contributor').id });
    expect(index.countAssignmentsOfRole(role('Reader').id)).toBe(1);
    expect(index.countAssignmentsOfRole(role('Contributor').id)).toBe(1);
    index.removeRoleAssignment(b.name);
    index.removeRoleAssignment(a.name);
    expect(index.countAssignmentsOfRole(role('Reader').id)).toBe(0);
    expect(index.countAssignmentsOfRole(role('Contributor').id)).toBe(0);
  });

  it('a bad scope in the batch fails with the write-time error', () => {
    const index = new AuthzIndex();
    expect(() => index.loadRoleAssignments([{ ...assignment(ALICE, role('Reader'), RG), scope: 'not-a-scope' }])).toThrow(/scope/i);
  });
});

describe('decision hot-path shortcuts behave like the long way', () => {
  it('isDerivedId agrees with derivedId, also at the root and for near misses', () => {
    const name = 'c0000000-0000-4000-8000-000000000001';
    for (const scope of ['/', SUB, RG, VAULT]) {
      const id = IndexedAssignment.derivedId(scope, name);
      expect(IndexedAssignment.isDerivedId(id, scope, name)).toBe(true);
      expect(IndexedAssignment.isDerivedId(id.replace('roleAssignments', 'roleassignmentz'), scope, name)).toBe(false);
      expect(IndexedAssignment.isDerivedId(`${id}x`, scope, name)).toBe(false);
      expect(IndexedAssignment.isDerivedId(id.toUpperCase(), scope, name)).toBe(false);
    }
    expect(IndexedAssignment.isDerivedId(IndexedAssignment.derivedId(RG, name), SUB.replace('5a1b', '5a1c') + '/resourceGroups/rg-app', name)).toBe(false);
  });

  it('actions in any casing or padding decide alike (the normalized form is cached per spelling)', () => {
    const index = new AuthzIndex();
    index.upsertRoleAssignment(assignment(ALICE, role('Key Vault Secrets User'), VAULT));
    for (const action of [GET_SECRET, GET_SECRET.toUpperCase(), ` ${GET_SECRET.toLowerCase()} `]) {
      expect(normalizedAction(action)).toBe(GET_SECRET.toLowerCase());
      expect(index.decide({ principalId: ALICE, action, isDataAction: true, scope: SECRET }).allowed).toBe(true);
      expect(index.decide({ principalId: ALICE, action, isDataAction: false, scope: SECRET }).allowed).toBe(false);
    }
  });

  it('deny assignments match and exclude groups given in any casing', () => {
    const index = new AuthzIndex();
    index.upsertRoleAssignment(assignment(ALICE, role('Owner'), SUB));
    index.upsertRoleAssignment(assignment(BOB, role('Owner'), SUB));
    const writes = [{ actions: ['*/write'], notActions: [], dataActions: [], notDataActions: [] }];
    index.upsertDenyAssignment(deny(RG, { name: 'deny-group', principals: [{ id: GROUP, type: 'Group' }], excludePrincipals: [{ id: BOB, type: 'User' }], permissions: writes }));
    const write = { action: 'Microsoft.Compute/virtualMachines/write', isDataAction: false, scope: VM };
    expect(index.decide({ principalId: ALICE, groupIds: [` ${GROUP.toUpperCase()}`], ...write }).reason).toBe('denied-by-deny-assignment');
    expect(index.decide({ principalId: ALICE, ...write }).allowed).toBe(true);
    expect(index.decide({ principalId: BOB.toUpperCase(), groupIds: [GROUP], ...write }).allowed).toBe(true);
    index.upsertDenyAssignment(deny(RG, { name: 'deny-all-but-group', principals: [{ id: '00000000-0000-0000-0000-000000000000', type: 'SystemDefined' }], excludePrincipals: [{ id: GROUP, type: 'Group' }], permissions: writes }));
    expect(index.decide({ principalId: BOB, groupIds: [GROUP.toUpperCase()], ...write }).allowed).toBe(true);
    expect(index.decide({ principalId: BOB, ...write }).reason).toBe('denied-by-deny-assignment');
  });
});
