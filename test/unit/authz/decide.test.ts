import { describe, it, expect, beforeEach } from 'vitest';
import { AuthzIndex } from '../../../src/authz/index.js';
import { ACCOUNT, ALICE, BOB, CONTAINER, GROUP, OTHER_RG, RG, SECRET, SUB, SUB_ID, UAMI, VAULT, VM, assignment, customRole, deny, role } from './fixtures.js';

const BLOB_READ = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read';
const GET_SECRET = 'Microsoft.KeyVault/vaults/secrets/getSecret/action';

let index: AuthzIndex;
beforeEach(() => {
  index = new AuthzIndex();
});

describe('user story: Key Vault Reader', () => {
  beforeEach(() => index.upsertRoleAssignment(assignment(ALICE, role('Key Vault Reader'), RG)));

  it('allows management reads of the vault (vaults/*/read covers vaults/read)', () => {
    const d = index.decide({ principalId: ALICE, action: 'Microsoft.KeyVault/vaults/read', isDataAction: false, scope: VAULT });
    expect(d.allowed).toBe(true);
    expect(d.reason).toBe('allowed');
    expect(d.matchedRole?.roleName).toBe('Key Vault Reader');
    expect(d.matchedAssignment?.scope).toBe(RG);
  });

  it('denies reading a secret value and names Key Vault Secrets User as the fix', () => {
    const d = index.decide({ principalId: ALICE, action: GET_SECRET, isDataAction: true, scope: SECRET });
    expect(d.allowed).toBe(false);
    expect(d.reason).toBe('no-matching-assignment');
    const e = d.explain();
    expect(e.assignments).toHaveLength(1);
    expect(e.assignments[0]).toMatchObject({ roleName: 'Key Vault Reader', outcome: 'action-not-in-actions', scope: RG });
    const names = e.suggestions.map((s) => s.roleName);
    expect(names[0]).toBe('Key Vault Secrets User');
    expect(names.indexOf('Key Vault Secrets User')).toBeLessThan(names.indexOf('Key Vault Secrets Officer'));
    expect(names.indexOf('Key Vault Secrets Officer')).toBeLessThan(names.indexOf('Key Vault Administrator'));
    expect(e.scopesChecked).toEqual([SECRET, VAULT, RG, SUB, '/']);
  });

  it('still allows listing secret metadata (a Key Vault Reader data action)', () => {
    const d = index.decide({ principalId: ALICE, action: 'Microsoft.KeyVault/vaults/secrets/readMetadata/action', isDataAction: true, scope: VAULT });
    expect(d.allowed).toBe(true);
  });
});

describe('user story: Owner cannot read blob data', () => {
  beforeEach(() => index.upsertRoleAssignment(assignment(ALICE, role('Owner'), SUB)));

  it('denies the blob read data action: `*` in Actions is control plane only', () => {
    const d = index.decide({ principalId: ALICE, action: BLOB_READ, isDataAction: true, scope: CONTAINER });
    expect(d.allowed).toBe(false);
    const trace = d.explain().assignments[0];
    expect(trace).toMatchObject({ roleName: 'Owner', outcome: 'plane-mismatch', pattern: '*' });
    expect(d.explain().suggestions.map((s) => s.roleName)).toContain('Storage Blob Data Reader');
  });

  it('allows control-plane actions, including listKeys (why Owner still gets data via keys)', () => {
    expect(index.decide({ principalId: ALICE, action: 'Microsoft.Storage/storageAccounts/listKeys/action', isDataAction: false, scope: ACCOUNT }).allowed).toBe(true);
    expect(index.decide({ principalId: ALICE, action: 'Microsoft.Authorization/roleAssignments/write', isDataAction: false, scope: RG }).allowed).toBe(true);
  });
});

describe('user story: Contributor cannot write role assignments', () => {
  beforeEach(() => index.upsertRoleAssignment(assignment(ALICE, role('Contributor'), SUB)));

  it('NotActions remove roleAssignments/write from Contributor', () => {
    const d = index.decide({ principalId: ALICE, action: 'Microsoft.Authorization/roleAssignments/write', isDataAction: false, scope: RG });
    expect(d.allowed).toBe(false);
    expect(d.explain().assignments[0]).toMatchObject({ outcome: 'excluded-by-not-actions', pattern: 'Microsoft.Authorization/*/Write' });
  });

  it('but Contributor writes VMs', () => {
    expect(index.decide({ principalId: ALICE, action: 'Microsoft.Compute/virtualMachines/write', isDataAction: false, scope: VM }).allowed).toBe(true);
  });

  it('NotActions are not a deny: a second role granting the action wins (§1.3), only where it is assigned', () => {
    index.upsertRoleAssignment(assignment(ALICE, role('User Access Administrator'), RG));
    const req = { principalId: ALICE, action: 'Microsoft.Authorization/roleAssignments/write', isDataAction: false };
    expect(index.decide({ ...req, scope: VM }).allowed).toBe(true);
    expect(index.decide({ ...req, scope: OTHER_RG }).allowed).toBe(false);
    expect(index.decide({ ...req, scope: SUB }).allowed).toBe(false);
  });
});

describe('wildcards that need the zero-segment reading', () => {
  it('Managed Identity Operator grants userAssignedIdentities/assign/action', () => {
    index.upsertRoleAssignment(assignment(ALICE, role('Managed Identity Operator'), RG));
    const d = index.decide({ principalId: ALICE, action: 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action', isDataAction: false, scope: UAMI });
    expect(d.allowed).toBe(true);
    expect(d.explain().assignments[0]).toMatchObject({ outcome: 'granted', pattern: 'Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action' });
  });
});

describe('scope inheritance and case', () => {
  it('an RG assignment covers resources below it, not the subscription or a sibling RG', () => {
    index.upsertRoleAssignment(assignment(ALICE, role('Reader'), RG));
    const read = (scope: string) => index.decide({ principalId: ALICE, action: 'Microsoft.Compute/virtualMachines/read', isDataAction: false, scope }).allowed;
    expect(read(VM)).toBe(true);
    expect(read(RG)).toBe(true);
    expect(read(SUB)).toBe(false);
    expect(read(`${OTHER_RG}/providers/Microsoft.Compute/virtualMachines/vm1`)).toBe(false);
  });

  it('ignores case in principal ids, scopes and actions', () => {
    index.upsertRoleAssignment(assignment(ALICE.toUpperCase(), role('Key Vault Secrets User'), VAULT.toUpperCase().replace('/SUBSCRIPTIONS', '/subscriptions')));
    const d = index.decide({ principalId: ALICE, action: GET_SECRET.toLowerCase(), isDataAction: true, scope: SECRET.replace('resourceGroups', 'resourcegroups') });
    expect(d.allowed).toBe(true);
  });

  it('compares role definition ids by trailing GUID (subscription-prefixed form)', () => {
    const r = role('Reader');
    index.upsertRoleAssignment(assignment(ALICE, `${SUB}/providers/Microsoft.Authorization/roleDefinitions/${r.name.toUpperCase()}`, RG));
    expect(index.decide({ principalId: ALICE, action: 'Microsoft.Resources/subscriptions/resourceGroups/read', isDataAction: false, scope: RG }).allowed).toBe(true);
  });

  it('a root assignment covers everything', () => {
    index.upsertRoleAssignment(assignment(ALICE, role('Reader'), '/'));
    expect(index.decide({ principalId: ALICE, action: 'Microsoft.Compute/virtualMachines/read', isDataAction: false, scope: VM }).allowed).toBe(true);
  });
});

describe('management groups', () => {
  it('assignments at a management group reach subscriptions below it, through nested groups', () => {
    index.setManagementGroup('Root-MG');
    index.setManagementGroup('platform', 'Root-MG');
    index.setSubscriptionManagementGroup(SUB_ID, 'platform');
    index.upsertRoleAssignment(assignment(ALICE, role('Reader'), '/providers/Microsoft.Management/managementGroups/root-mg'));
    const req = { principalId: ALICE, action: 'Microsoft.Compute/virtualMachines/read', isDataAction: false, scope: VM };
    const d = index.decide(req);
    expect(d.allowed).toBe(true);
    expect(d.explain().scopesChecked).toEqual([
      VM,
      RG,
      SUB,
      '/providers/Microsoft.Management/managementGroups/platform',
      '/providers/Microsoft.Management/managementGroups/Root-MG',
      '/',
    ]);
    index.setSubscriptionManagementGroup(SUB_ID, null);
    expect(index.decide(req).allowed).toBe(false);
  });

  it('refuses cycles', () => {
    index.setManagementGroup('a');
    index.setManagementGroup('b', 'a');
    expect(() => index.setManagementGroup('a', 'b')).toThrow(/descendant/);
  });
});

describe('groups', () => {
  it("a group's assignment applies to members the token says are in it", () => {
    index.upsertRoleAssignment(assignment(GROUP, role('Key Vault Secrets User'), VAULT, { principalType: 'Group' }));
    expect(index.decide({ principalId: ALICE, action: GET_SECRET, isDataAction: true, scope: SECRET }).allowed).toBe(false);
    const d = index.decide({ principalId: ALICE, groupIds: [GROUP], action: GET_SECRET, isDataAction: true, scope: SECRET });
    expect(d.allowed).toBe(true);
    expect(d.explain().assignments[0]?.viaGroup).toBe(GROUP);
  });
});

describe('deny assignments (§1.6)', () => {
  it('deny beats Owner, and excludePrincipals carve out exceptions (also via groups)', () => {
    index.upsertRoleAssignment(assignment(ALICE, role('Owner'), SUB));
    index.upsertRoleAssignment(assignment(BOB, role('Owner'), SUB));
    index.upsertDenyAssignment(deny(RG, { name: 'deny-writes', excludePrincipals: [{ id: GROUP, type: 'Group' }], permissions: [{ actions: ['*/write'], notActions: [], dataActions: [], notDataActions: [] }] }));
    const write = { action: 'Microsoft.Compute/virtualMachines/write', isDataAction: false, scope: VM };
    const d = index.decide({ principalId: ALICE, ...write });
    expect(d.allowed).toBe(false);
    expect(d.reason).toBe('denied-by-deny-assignment');
    expect(d.matchedDenyAssignment?.name).toBe('deny-writes');
    expect(d.explain().denyAssignments[0]?.outcome).toBe('applied');
    expect(index.decide({ principalId: BOB, groupIds: [GROUP], ...write }).allowed).toBe(true);
    // reads are not covered by the deny
    expect(index.decide({ principalId: ALICE, action: 'Microsoft.Compute/virtualMachines/read', isDataAction: false, scope: VM }).allowed).toBe(true);
  });

  it('doNotApplyToChildScopes limits the deny to its own scope', () => {
    index.upsertRoleAssignment(assignment(ALICE, role('Owner'), SUB));
    index.upsertDenyAssignment(deny(RG, { doNotApplyToChildScopes: true }));
    expect(index.decide({ principalId: ALICE, action: 'Microsoft.Resources/subscriptions/resourceGroups/write', isDataAction: false, scope: RG }).allowed).toBe(false);
    const d = index.decide({ principalId: ALICE, action: 'Microsoft.Compute/virtualMachines/write', isDataAction: false, scope: VM });
    expect(d.allowed).toBe(true);
    expect(d.explain().denyAssignments[0]?.outcome).toBe('not-inherited');
  });

  it('deny NotDataActions subtract on the data plane; deny names specific principals', () => {
    index.upsertRoleAssignment(assignment(ALICE, role('Storage Blob Data Owner'), ACCOUNT));
    index.upsertRoleAssignment(assignment(BOB, role('Storage Blob Data Owner'), ACCOUNT));
    index.upsertDenyAssignment(
      deny(ACCOUNT, {
        principals: [{ id: ALICE, type: 'User' }],
        permissions: [{ actions: [], notActions: [], dataActions: ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*'], notDataActions: [BLOB_READ] }],
      }),
    );
    const blob = (principalId: string, action: string) => index.decide({ principalId, action, isDataAction: true, scope: CONTAINER }).allowed;
    expect(blob(ALICE, BLOB_READ)).toBe(true);
    expect(blob(ALICE, 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete')).toBe(false);
    expect(blob(BOB, 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete')).toBe(true);
  });

  it('removing a deny assignment restores access', () => {
    index.upsertRoleAssignment(assignment(ALICE, role('Owner'), SUB));
    index.upsertDenyAssignment(deny(SUB, { name: 'd1' }));
    expect(index.decide({ principalId: ALICE, action: 'Microsoft.Compute/virtualMachines/read', isDataAction: false, scope: VM }).allowed).toBe(false);
    expect(index.removeDenyAssignment('D1')).toBe(true);
    expect(index.decide({ principalId: ALICE, action: 'Microsoft.Compute/virtualMachines/read', isDataAction: false, scope: VM }).allowed).toBe(true);
  });
});

describe('ABAC conditions', () => {
  const CONTAINER_ONLY =
    "((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'})) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'data'))";

  beforeEach(() => {
    index.upsertRoleAssignment(assignment(ALICE, role('Storage Blob Data Reader'), ACCOUNT, { condition: CONTAINER_ONLY, conditionVersion: '2.0' }));
  });

  it('grants a targeted action when the condition holds', () => {
    const d = index.decide({
      principalId: ALICE,
      action: BLOB_READ,
      isDataAction: true,
      scope: CONTAINER,
      attributes: { resource: { 'Microsoft.Storage/storageAccounts/blobServices/containers:name': 'data' } },
    });
    expect(d.allowed).toBe(true);
    expect(d.conditionInvolved).toBe(true);
  });

  it('denies with reason condition-false when it does not', () => {
    const d = index.decide({
      principalId: ALICE,
      action: BLOB_READ,
      isDataAction: true,
      scope: `${ACCOUNT}/blobServices/default/containers/other`,
      attributes: { resource: { 'Microsoft.Storage/storageAccounts/blobServices/containers:name': 'other' } },
    });
    expect(d.allowed).toBe(false);
    expect(d.reason).toBe('condition-false');
    expect(d.conditionInvolved).toBe(true);
    expect(d.explain().assignments[0]).toMatchObject({ outcome: 'condition-false', conditionSource: 'assignment' });
  });

  it("a role block's own condition gates it (Key Vault Data Access Administrator)", () => {
    index.upsertRoleAssignment(assignment(BOB, role('Key Vault Data Access Administrator'), VAULT));
    const write = (roleGuid: string) =>
      index.decide({
        principalId: BOB,
        action: 'Microsoft.Authorization/roleAssignments/write',
        isDataAction: false,
        scope: VAULT,
        attributes: { request: { 'Microsoft.Authorization/roleAssignments:RoleDefinitionId': roleGuid } },
      });
    expect(write(role('Key Vault Secrets User').name).allowed).toBe(true);
    const d = write(role('Owner').name);
    expect(d.allowed).toBe(false);
    expect(d.reason).toBe('condition-false');
    expect(d.explain().assignments[0]).toMatchObject({ outcome: 'condition-false', conditionSource: 'role' });
  });

  it('rejects an invalid condition when the assignment is written', () => {
    expect(() => index.upsertRoleAssignment(assignment(ALICE, role('Reader'), RG, { condition: '((( nonsense', conditionVersion: '2.0' }))).toThrow();
  });
});

describe('custom roles', () => {
  const GUID = 'c0ffee00-0000-4000-8000-000000000001';

  it('decisions follow a custom role and its updates (grant cache invalidated)', () => {
    index.upsertRoleDefinition(customRole(GUID, 'VM Starter', [{ actions: ['Microsoft.Compute/virtualMachines/start/action'], notActions: [], dataActions: [], notDataActions: [] }]));
    index.upsertRoleAssignment(assignment(ALICE, `${SUB}/providers/Microsoft.Authorization/roleDefinitions/${GUID}`, RG));
    const start = { principalId: ALICE, action: 'Microsoft.Compute/virtualMachines/start/action', isDataAction: false, scope: VM };
    expect(index.decide(start).allowed).toBe(true);
    index.upsertRoleDefinition(customRole(GUID, 'VM Starter', [{ actions: ['Microsoft.Compute/virtualMachines/read'], notActions: [], dataActions: [], notDataActions: [] }]));
    expect(index.decide(start).allowed).toBe(false);
    index.removeRoleDefinition(GUID);
    const d = index.decide({ ...start, action: 'Microsoft.Compute/virtualMachines/read' });
    expect(d.allowed).toBe(false);
    expect(d.explain().assignments[0]?.outcome).toBe('role-not-found');
  });
});
