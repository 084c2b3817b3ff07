/** Shared builders for the authz unit tests (not a test file itself). */
import { randomUUID } from 'node:crypto';
import { builtinRoleByName } from '../../../src/authz/builtin-roles.js';
import type { DenyAssignment, PrincipalType, RoleAssignment, RoleDefinition } from '../../../src/authz/types.js';

export const SUB_ID = '5a1b2c3d-0000-4000-8000-00000000000a';
export const SUB = `/subscriptions/${SUB_ID}`;
export const RG = `${SUB}/resourceGroups/rg-app`;
export const OTHER_RG = `${SUB}/resourceGroups/rg-other`;
export const VAULT = `${RG}/providers/Microsoft.KeyVault/vaults/kv-app`;
export const SECRET = `${VAULT}/secrets/db-password`;
export const ACCOUNT = `${RG}/providers/Microsoft.Storage/storageAccounts/stapp`;
export const CONTAINER = `${ACCOUNT}/blobServices/default/containers/data`;
export const VM = `${RG}/providers/Microsoft.Compute/virtualMachines/vm1`;
export const UAMI = `${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1`;

export const ALICE = 'aaaaaaaa-0000-4000-8000-000000000001';
export const BOB = 'bbbbbbbb-0000-4000-8000-000000000002';
export const GROUP = 'eeeeeeee-0000-4000-8000-000000000003';

export function role(name: string): RoleDefinition {
  const r = builtinRoleByName(name);
  if (r === undefined) throw new Error(`no built-in role ${name}`);
  return r;
}

export function assignment(
  principalId: string,
  roleDef: RoleDefinition | string,
  scope: string,
  extra: Partial<RoleAssignment> & { principalType?: PrincipalType } = {},
): RoleAssignment {
  const name = extra.name ?? randomUUID();
  return {
    id: `${scope === '/' ? '' : scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
    name,
    scope,
    roleDefinitionId: typeof roleDef === 'string' ? roleDef : roleDef.id,
    principalId,
    principalType: extra.principalType ?? 'User',
    ...extra,
  };
}

export function deny(scope: string, extra: Partial<DenyAssignment> = {}): DenyAssignment {
  const name = extra.name ?? randomUUID();
  return {
    id: `${scope === '/' ? '' : scope}/providers/Microsoft.Authorization/denyAssignments/${name}`,
    name,
    description: '',
    scope,
    doNotApplyToChildScopes: false,
    principals: [{ id: '00000000-0000-0000-0000-000000000000', type: 'SystemDefined' }],
    excludePrincipals: [],
    isSystemProtected: true,
    permissions: [{ actions: ['*'], notActions: [], dataActions: [], notDataActions: [] }],
    ...extra,
  };
}

export function customRole(guid: string, roleName: string, permissions: RoleDefinition['permissions'], assignableScopes = [SUB]): RoleDefinition {
  return {
    id: `${SUB}/providers/Microsoft.Authorization/roleDefinitions/${guid}`,
    name: guid,
    roleName,
    roleType: 'CustomRole',
    description: '',
    assignableScopes,
    permissions,
  };
}
