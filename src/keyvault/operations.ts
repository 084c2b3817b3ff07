import type { PermissionKind } from './access-policy.js';

/**
 * Every secrets operation, with the RBAC data action Key Vault checks for it and the access-policy
 * permission it needs (authorization.md §3.1, Microsoft's mapping). `scope` says whether the check is made
 * on the secret (individual secrets are RBAC scopes) or on the vault.
 */
export interface SecretOperation {
  dataAction: string;
  kind: PermissionKind;
  permission: string;
  scope: 'secret' | 'vault';
}

const A = 'Microsoft.KeyVault/vaults/secrets';

export const SECRET_OPERATIONS = {
  get: { dataAction: `${A}/getSecret/action`, kind: 'secrets', permission: 'get', scope: 'secret' },
  list: { dataAction: `${A}/readMetadata/action`, kind: 'secrets', permission: 'list', scope: 'vault' },
  listVersions: { dataAction: `${A}/readMetadata/action`, kind: 'secrets', permission: 'list', scope: 'secret' },
  set: { dataAction: `${A}/setSecret/action`, kind: 'secrets', permission: 'set', scope: 'secret' },
  update: { dataAction: `${A}/update/action`, kind: 'secrets', permission: 'set', scope: 'secret' },
  delete: { dataAction: `${A}/delete`, kind: 'secrets', permission: 'delete', scope: 'secret' },
  getDeleted: { dataAction: `${A}/readMetadata/action`, kind: 'secrets', permission: 'list', scope: 'secret' },
  listDeleted: { dataAction: `${A}/readMetadata/action`, kind: 'secrets', permission: 'list', scope: 'vault' },
  recover: { dataAction: `${A}/recover/action`, kind: 'secrets', permission: 'recover', scope: 'secret' },
  purge: { dataAction: `${A}/purge/action`, kind: 'secrets', permission: 'purge', scope: 'secret' },
  backup: { dataAction: `${A}/backup/action`, kind: 'secrets', permission: 'backup', scope: 'secret' },
  restore: { dataAction: `${A}/restore/action`, kind: 'secrets', permission: 'restore', scope: 'vault' },
} as const satisfies Record<string, SecretOperation>;

export type SecretOperationName = keyof typeof SECRET_OPERATIONS;
