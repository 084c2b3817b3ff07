import type { DeletedView, SecretVersionView } from './secrets.js';
import { recoveryLevel, type VaultInfo } from './vault-info.js';

/** Key Vault's JSON shapes (SecretBundle, SecretItem, DeletedSecretBundle/Item), in the service's key order. */
export function attributes(v: SecretVersionView, vault: VaultInfo) {
  return {
    enabled: v.enabled,
    ...(v.nbf !== undefined ? { nbf: v.nbf } : {}),
    ...(v.exp !== undefined ? { exp: v.exp } : {}),
    created: v.created,
    updated: v.updated,
    recoveryLevel: recoveryLevel(vault),
    recoverableDays: vault.softDeleteDays,
  };
}

const secretId = (base: string, v: SecretVersionView, withVersion: boolean): string =>
  `${base}/secrets/${v.name}${withVersion ? `/${v.version}` : ''}`;

/** SecretBundle; `value` only where the operation returns it (get, set). */
export function secretBundle(base: string, v: SecretVersionView, vault: VaultInfo, value?: string) {
  return {
    ...(value !== undefined ? { value } : {}),
    ...(v.contentType !== undefined ? { contentType: v.contentType } : {}),
    id: secretId(base, v, true),
    attributes: attributes(v, vault),
    ...(v.tags !== undefined ? { tags: v.tags } : {}),
  };
}

/** SecretItem: list entries name the secret (latest) or, for the versions list, the version. */
export function secretItem(base: string, v: SecretVersionView, vault: VaultInfo, withVersion: boolean) {
  return {
    id: secretId(base, v, withVersion),
    attributes: attributes(v, vault),
    ...(v.contentType !== undefined ? { contentType: v.contentType } : {}),
    ...(v.tags !== undefined ? { tags: v.tags } : {}),
  };
}

export function deletedSecretBundle(base: string, d: DeletedView, vault: VaultInfo, asItem = false) {
  return {
    recoveryId: `${base}/deletedsecrets/${d.secret.name}`,
    deletedDate: d.deletedDate,
    scheduledPurgeDate: d.scheduledPurgeDate,
    ...(d.secret.contentType !== undefined ? { contentType: d.secret.contentType } : {}),
    id: secretId(base, d.secret, !asItem),
    attributes: attributes(d.secret, vault),
    ...(d.secret.tags !== undefined ? { tags: d.secret.tags } : {}),
  };
}
