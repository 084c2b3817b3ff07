import type { ArmDocument } from '../resources/index.js';
import { parseAccessPolicies, type AccessPolicyEntry } from './access-policy.js';

/** What the data plane needs to know about a vault, read from its ARM document. */
export interface VaultInfo {
  /** Lower-cased: vault names are global and case-insensitive. */
  nameKey: string;
  name: string;
  id: string;
  location: string;
  tenantId: string;
  subscriptionId: string;
  rbac: boolean;
  accessPolicies: AccessPolicyEntry[];
  softDeleteDays: number;
  purgeProtection: boolean;
}

export function vaultInfoFromDocument(doc: ArmDocument): VaultInfo {
  const p = doc.properties ?? {};
  let policies: AccessPolicyEntry[];
  try {
    policies = parseAccessPolicies(p['accessPolicies']);
  } catch {
    // Stored documents were validated on write; a damaged list must grant nothing rather than fail open.
    policies = [];
  }
  return {
    nameKey: doc.name.toLowerCase(),
    name: doc.name,
    id: doc.id,
    location: doc.location ?? '',
    tenantId: String(p['tenantId'] ?? ''),
    subscriptionId: (doc.id.split('/')[2] ?? '').toLowerCase(),
    rbac: p['enableRbacAuthorization'] === true,
    accessPolicies: policies,
    softDeleteDays: typeof p['softDeleteRetentionInDays'] === 'number' ? p['softDeleteRetentionInDays'] : 90,
    purgeProtection: p['enablePurgeProtection'] === true,
  };
}

/** `recoveryLevel` for a vault's objects, as Key Vault derives it from the vault's settings. */
export function recoveryLevel(v: Pick<VaultInfo, 'softDeleteDays' | 'purgeProtection'>): string {
  const base = v.softDeleteDays < 90 ? 'CustomizedRecoverable' : 'Recoverable';
  return v.purgeProtection ? base : `${base}+Purgeable`;
}
