import { describe, it, expect } from 'vitest';
import { AuthzIndex } from '../../../src/authz/index.js';
import { renderExplanation, suggestRoles, summarizeExplanation } from '../../../src/authz/explain.js';
import { ALICE, CONTAINER, GROUP, RG, SECRET, SUB, UAMI, VAULT, VM, assignment, deny, role } from './fixtures.js';

const names = (index: AuthzIndex, action: string, isData: boolean, scope?: string) => suggestRoles(index, action, isData, scope).map((s) => s.roleName);

describe('suggestRoles: narrowest built-in roles first', () => {
  const index = new AuthzIndex();

  it('getSecret → Key Vault Secrets User before Secrets Officer before Administrator', () => {
    const s = names(index, 'Microsoft.KeyVault/vaults/secrets/getSecret/action', true, SECRET);
    expect(s[0]).toBe('Key Vault Secrets User');
    expect(s).toContain('Key Vault Secrets Officer');
    expect(s).toContain('Key Vault Administrator');
    expect(s.indexOf('Key Vault Secrets Officer')).toBeLessThan(s.indexOf('Key Vault Administrator'));
    expect(s.length).toBeLessThanOrEqual(5);
  });

  it('blob read → Storage Blob Data Reader first', () => {
    expect(names(index, 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read', true, CONTAINER)[0]).toBe('Storage Blob Data Reader');
  });

  it('blob write → Storage Blob Data Contributor is among the suggestions, Owner is not', () => {
    const s = names(index, 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write', true, CONTAINER);
    expect(s).toContain('Storage Blob Data Contributor');
    expect(s).not.toContain('Owner');
  });

  it('assign identity → Managed Identity Operator first (zero-segment wildcard)', () => {
    expect(names(index, 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action', false, UAMI)[0]).toBe('Managed Identity Operator');
  });

  it('drops provider-less wildcard grants (Owner, Contributor, Reader) when a specific role exists', () => {
    const s = suggestRoles(index, 'Microsoft.Compute/virtualMachines/start/action', false, VM);
    expect(s.map((x) => x.roleName)).not.toContain('Owner');
    expect(s.map((x) => x.roleName)).not.toContain('Contributor');
    expect(s.every((x) => !x.grantedBy.startsWith('*'))).toBe(true);
    // narrowest first
    for (let i = 1; i < s.length; i++) if (!s[i - 1]!.conditional && !s[i]!.conditional) expect(s[i - 1]!.breadth).toBeLessThanOrEqual(s[i]!.breadth);
  });

  it('keeps broad roles when nothing narrower grants the action', () => {
    const s = names(index, 'Contoso.Widgets/gizmos/frobnicate/action', false, VM);
    expect(s).toContain('Owner');
  });

  it('ranks conditional grants last (role assignment writes)', () => {
    const s = suggestRoles(index, 'Microsoft.Authorization/roleAssignments/write', false, RG);
    const firstConditional = s.findIndex((x) => x.conditional);
    if (firstConditional >= 0) expect(s.slice(firstConditional).every((x) => x.conditional)).toBe(true);
    expect(s[0]?.conditional).toBe(false);
  });
});

describe('explanations', () => {
  it('render a multi-line text form naming every step', () => {
    const index = new AuthzIndex();
    index.upsertRoleAssignment(assignment(ALICE, role('Key Vault Reader'), RG));
    index.upsertRoleAssignment(assignment(GROUP, role('Contributor'), SUB, { principalType: 'Group' }));
    index.upsertDenyAssignment(deny(SUB, { name: 'protect', principals: [{ id: 'someone-else', type: 'User' }] }));
    const e = index.decide({ principalId: ALICE, groupIds: [GROUP], action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action', isDataAction: true, scope: SECRET }).explain();
    const text = renderExplanation(e);
    expect(text.split('\n')[0]).toBe('Access check: DENIED: no role assignment grants the action');
    expect(text).toContain('action:    Microsoft.KeyVault/vaults/secrets/getSecret/action (data action)');
    expect(text).toContain(`'Key Vault Reader' at ${RG}`);
    expect(text).toContain(`'Contributor' at ${SUB} via group ${GROUP}`);
    expect(text).toContain('plane-mismatch');
    expect(text).toContain('protect at');
    expect(text).toContain('principal-not-covered');
    expect(text).toMatch(/Built-in roles that would grant this action here \(narrowest first\):\n {2}- Key Vault Secrets User \(4633458b-17de-408a-b874-0445c86b69e6\)/);
  });

  it('summaries are single-line and name principal, action, scope and the nearest role', () => {
    const index = new AuthzIndex();
    const e = index.decide({ principalId: ALICE, action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action', isDataAction: true, scope: SECRET }).explain();
    expect(summarizeExplanation(e)).toBe(
      `denied: no role assignment of principal ${ALICE} grants data action 'Microsoft.KeyVault/vaults/secrets/getSecret/action' at '${SECRET}'; a role that would grant it: 'Key Vault Secrets User'`,
    );
  });

  it('allowed summaries name the granting role and scope; control characters are neutralized', () => {
    const index = new AuthzIndex();
    index.upsertRoleAssignment(assignment(ALICE, role('Key Vault Secrets User'), VAULT));
    const e = index.decide({ principalId: ALICE, action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action', isDataAction: true, scope: SECRET }).explain();
    expect(summarizeExplanation(e)).toBe(
      `allowed: principal ${ALICE} may perform data action 'Microsoft.KeyVault/vaults/secrets/getSecret/action' at '${SECRET}' via 'Key Vault Secrets User' assigned at '${VAULT}'`,
    );
    const evil = index.decide({ principalId: 'x\r\nInjected: 1', action: 'a\nb', isDataAction: false, scope: VM }).explain();
    expect(summarizeExplanation(evil)).not.toMatch(/[\r\n]/);
  });

  it('deny summaries name the deny assignment', () => {
    const index = new AuthzIndex();
    index.upsertRoleAssignment(assignment(ALICE, role('Owner'), SUB));
    index.upsertDenyAssignment(deny(RG, { name: 'stack-lock' }));
    const e = index.decide({ principalId: ALICE, action: 'Microsoft.Compute/virtualMachines/delete', isDataAction: false, scope: VM }).explain();
    expect(e.reason).toBe('denied-by-deny-assignment');
    expect(summarizeExplanation(e)).toBe(`denied: deny assignment 'stack-lock' at '${RG}' blocks action 'Microsoft.Compute/virtualMachines/delete' at '${VM}' for principal ${ALICE}`);
  });
});
