import { describe, it, expect } from 'vitest';
import { validateCustomRole } from '../../../src/authz/custom-roles.js';
import { KeylessError } from '../../../src/core/errors.js';
import { RG, SUB } from './fixtures.js';

const perm = (p: Partial<Record<'actions' | 'notActions' | 'dataActions' | 'notDataActions', string[]>> & { condition?: string; conditionVersion?: string }) => p;

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(KeylessError);
    expect((e as KeylessError).status).toBe(400);
    return (e as KeylessError).code;
  }
}

describe('validateCustomRole', () => {
  it('accepts a typical custom role and normalizes missing lists', () => {
    const r = validateCustomRole({
      roleName: ' VM Operator ',
      description: 'start and stop',
      assignableScopes: [SUB, RG],
      permissions: [perm({ actions: ['Microsoft.Compute/virtualMachines/start/action', 'Microsoft.Compute/*/read', 'Contoso.Widgets/*'] })],
    });
    expect(r.roleName).toBe('VM Operator');
    expect(r.assignableScopes).toEqual([SUB, RG]);
    expect(r.permissions[0]).toEqual({ actions: ['Microsoft.Compute/virtualMachines/start/action', 'Microsoft.Compute/*/read', 'Contoso.Widgets/*'], notActions: [], dataActions: [], notDataActions: [] });
  });

  it('requires a name and at least one valid assignable scope, never / or wildcards', () => {
    expect(codeOf(() => validateCustomRole({ roleName: '', assignableScopes: [SUB], permissions: [] }))).toBe('InvalidRoleDefinition');
    expect(codeOf(() => validateCustomRole({ roleName: 'x', assignableScopes: [], permissions: [] }))).toBe('InvalidRoleDefinition');
    expect(codeOf(() => validateCustomRole({ roleName: 'x', assignableScopes: ['/'], permissions: [] }))).toBe('InvalidRoleDefinition');
    expect(codeOf(() => validateCustomRole({ roleName: 'x', assignableScopes: ['/subscriptions/*'], permissions: [] }))).toBe('InvalidRoleDefinition');
    expect(codeOf(() => validateCustomRole({ roleName: 'x', assignableScopes: ['/subscriptions'], permissions: [] }))).toBe('LinkedInvalidPropertyId');
  });

  it('enforces the one-wildcard rule on every list', () => {
    for (const field of ['actions', 'notActions', 'dataActions', 'notDataActions'] as const) {
      expect(codeOf(() => validateCustomRole({ roleName: 'x', assignableScopes: [SUB], permissions: [perm({ [field]: ['Microsoft.CostManagement/*/query/*'] })] }))).toBe('InvalidActionOrNotAction');
    }
  });

  it('checks the plane of actions for providers Keyless ships', () => {
    // a data operation in Actions
    expect(codeOf(() => validateCustomRole({ roleName: 'x', assignableScopes: [SUB], permissions: [perm({ actions: ['Microsoft.KeyVault/vaults/secrets/getSecret/action'] })] }))).toBe(
      'InvalidActionOrNotAction',
    );
    // a control-plane operation in DataActions
    expect(codeOf(() => validateCustomRole({ roleName: 'x', assignableScopes: [SUB], permissions: [perm({ dataActions: ['Microsoft.Storage/storageAccounts/listKeys/action'] })] }))).toBe(
      'InvalidDataActionOrNotDataAction',
    );
    // an operation that does not exist at all
    expect(codeOf(() => validateCustomRole({ roleName: 'x', assignableScopes: [SUB], permissions: [perm({ actions: ['Microsoft.KeyVault/vaults/teleport/action'] })] }))).toBe(
      'InvalidActionOrNotAction',
    );
    // valid on both planes, wildcards included
    expect(() =>
      validateCustomRole({
        roleName: 'x',
        assignableScopes: [SUB],
        permissions: [perm({ actions: ['Microsoft.KeyVault/vaults/*/read'], dataActions: ['Microsoft.KeyVault/vaults/secrets/*', 'microsoft.storage/storageaccounts/blobservices/containers/blobs/read'] })],
      }),
    ).not.toThrow();
    // unknown providers are accepted as written
    expect(() => validateCustomRole({ roleName: 'x', assignableScopes: [SUB], permissions: [perm({ dataActions: ['Contoso.Widgets/gizmos/read'] })] })).not.toThrow();
  });

  it('refuses DataActions with a management-group assignable scope', () => {
    expect(
      codeOf(() =>
        validateCustomRole({
          roleName: 'x',
          assignableScopes: ['/providers/Microsoft.Management/managementGroups/corp'],
          permissions: [perm({ dataActions: ['Microsoft.KeyVault/vaults/secrets/getSecret/action'] })],
        }),
      ),
    ).toBe('InvalidRoleDefinition');
  });

  it('compiles permission conditions', () => {
    expect(
      codeOf(() =>
        validateCustomRole({ roleName: 'x', assignableScopes: [SUB], permissions: [perm({ actions: ['Microsoft.Authorization/roleAssignments/write'], condition: '(((', conditionVersion: '2.0' })] }),
      ),
    ).toBe('InvalidConditionExpression');
  });
});
