import { describe, it, expect } from 'vitest';
import { AuthzIndex } from '../../../src/authz/index.js';
import type { RoleAssignment } from '../../../src/authz/types.js';
import { ALICE, RG, SUB, VAULT, assignment, role } from './fixtures.js';

const GET_SECRET = 'Microsoft.KeyVault/vaults/secrets/getSecret/action';
const CONDITION = "@Resource[Microsoft.KeyVault/vaults/secrets:name] StringEquals 's1'";

describe('the index keeps assignments compactly but gives back what was written', () => {
  it('round-trips every field, including an id that is not the derived one and fields left out', () => {
    const index = new AuthzIndex();
    const full: RoleAssignment = {
      ...assignment(ALICE, role('Key Vault Secrets User'), VAULT, { condition: CONDITION, conditionVersion: '2.0', description: 'why' }),
      createdOn: '2026-01-01T00:00:00.000Z',
      updatedOn: '2026-01-02T00:00:00.000Z',
      createdBy: 'someone',
      updatedBy: null,
      delegatedManagedIdentityResourceId: null,
    };
    const odd: RoleAssignment = { id: `/${RG}/providers/Microsoft.Authorization/roleAssignments/x`, name: 'b0000000-0000-4000-8000-000000000001', scope: RG, roleDefinitionId: role('Reader').id, principalId: ALICE, principalType: 'User' };
    index.upsertRoleAssignment(full);
    index.upsertRoleAssignment(odd);
    expect(index.getRoleAssignment(full.name)).toStrictEqual(full);
    expect(index.getRoleAssignment(odd.name.toUpperCase())).toStrictEqual(odd);
    expect(Object.keys(index.getRoleAssignment(odd.name)!)).toEqual(Object.keys(odd));
    expect(index.decide({ principalId: ALICE, action: GET_SECRET, isDataAction: true, scope: `${VAULT}/secrets/s1`, attributes: { resource: { 'Microsoft.KeyVault/vaults/secrets:name': 's1' } } }).matchedAssignment).toStrictEqual(full);
  });

  it('decides the same once a principal holds enough assignments to be indexed by scope, and after removals', () => {
    const index = new AuthzIndex();
    const names: string[] = [];
    for (let i = 0; i < 40; i++) {
      const a = assignment(ALICE, role('Reader'), `${SUB}/resourceGroups/rg-${i}`);
      names.push(a.name);
      index.upsertRoleAssignment(a);
    }
    const secrets = assignment(ALICE, role('Key Vault Secrets User'), VAULT);
    index.upsertRoleAssignment(secrets);
    const req = { principalId: ALICE, action: GET_SECRET, isDataAction: true, scope: `${VAULT}/secrets/s1` };
    expect(index.decide(req).matchedAssignment?.name).toBe(secrets.name);
    expect(index.decide({ ...req, action: 'Microsoft.Resources/subscriptions/resourceGroups/read', isDataAction: false, scope: `${SUB}/resourceGroups/rg-7` }).matchedAssignment?.name).toBe(names[7]);
    for (const n of names) index.removeRoleAssignment(n);
    expect(index.assignmentsOfPrincipal(ALICE).map((a) => a.name)).toEqual([secrets.name]);
    expect(index.decide(req).allowed).toBe(true);
    index.removeRoleAssignment(secrets.name);
    expect(index.decide(req).allowed).toBe(false);
    expect(index.assignmentCount).toBe(0);
  });
});
