import { describe, it, expect } from 'vitest';
import { builtinRoleById, builtinRoleByName, builtinRoles, isBuiltinRoleGuid, roleDefinitionGuid } from '../../../src/authz/builtin-roles.js';
import { AuthzIndex } from '../../../src/authz/index.js';
import { normalizeAction } from '../../../src/core/actions.js';
import { providerOperations } from '../../../src/authz/provider-operations.js';

describe('built-in roles', () => {
  it('loads all 928 roles from data/', () => {
    expect(builtinRoles()).toHaveLength(928);
    expect(builtinRoles().every((r) => r.roleType === 'BuiltInRole' && r.id === `/providers/Microsoft.Authorization/roleDefinitions/${r.name}`)).toBe(true);
  });

  it('looks up by GUID, full id (any prefix, any case) and role name (case-insensitive)', () => {
    const owner = builtinRoleByName('owner');
    expect(owner?.name).toBe('8e3af657-a8ff-443c-a75c-2fe8c4bcb635');
    expect(builtinRoleById('8E3AF657-A8FF-443C-A75C-2FE8C4BCB635')).toBe(owner);
    expect(builtinRoleById('/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635')).toBe(owner);
    expect(builtinRoleByName('KEY VAULT SECRETS USER')?.name).toBe('4633458b-17de-408a-b874-0445c86b69e6');
    expect(builtinRoleByName('No Such Role')).toBeUndefined();
    expect(isBuiltinRoleGuid('acdd72a7-3385-48ef-bd42-f606fba81ae7')).toBe(true);
    expect(roleDefinitionGuid('/providers/Microsoft.Authorization/roleDefinitions/ABC/')).toBe('abc');
  });

  it('is frozen: shared objects cannot be mutated by callers', () => {
    const owner = builtinRoleByName('Owner')!;
    expect(Object.isFrozen(owner)).toBe(true);
    expect(Object.isFrozen(owner.permissions[0])).toBe(true);
  });

  it('keeps permission-block conditions (Key Vault Data Access Administrator)', () => {
    const kvdaa = builtinRoleByName('Key Vault Data Access Administrator')!;
    expect(kvdaa.permissions[0]?.condition).toMatch(/ActionMatches\{'Microsoft.Authorization\/roleAssignments\/write'\}/);
    expect(kvdaa.permissions[0]?.conditionVersion).toBe('2.0');
  });

  it('spec §8 highlights hold against the engine', () => {
    const index = new AuthzIndex();
    const grants = (roleName: string, action: string, isData: boolean) => index.compiledRole(builtinRoleByName(roleName)!.name)!.grant(normalizeAction(action), isData).kind !== 'none';
    expect(grants('Owner', 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read', true)).toBe(false);
    expect(grants('Reader', 'Microsoft.Compute/virtualMachines/read', false)).toBe(true);
    expect(grants('Reader', 'Microsoft.Compute/virtualMachines/write', false)).toBe(false);
    expect(grants('Virtual Machine Contributor', 'Microsoft.Storage/storageAccounts/listkeys/action', false)).toBe(true);
    expect(grants('Storage Account Contributor', 'Microsoft.Storage/storageAccounts/listKeys/action', false)).toBe(true);
    expect(grants('Key Vault Administrator', 'Microsoft.KeyVault/vaults/keys/sign/action', true)).toBe(true);
    expect(grants('Key Vault Contributor', 'Microsoft.KeyVault/vaults/secrets/getSecret/action', true)).toBe(false);
    expect(grants('Role Based Access Control Administrator', 'Microsoft.Authorization/roleAssignments/delete', false)).toBe(true);
  });

  it('every data action a built-in role names is either a catalog data operation or from a provider outside the catalog', () => {
    // Guards the plane split the engine relies on: no shipped role puts a known control-plane-only operation in DataActions.
    const ops = providerOperations();
    const controlOnly = new Set(ops.filter((o) => !o.isDataAction).map((o) => o.key));
    for (const o of ops) if (o.isDataAction) controlOnly.delete(o.key);
    const offenders = builtinRoles().flatMap((r) => r.permissions.flatMap((p) => p.dataActions.filter((a) => controlOnly.has(normalizeAction(a))).map((a) => `${r.roleName}: ${a}`)));
    expect(offenders).toEqual([]);
  });
});
