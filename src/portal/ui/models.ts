/** The ARM shapes the portal reads (only the fields it uses). */

export interface Subscription {
  id: string;
  subscriptionId: string;
  displayName: string;
  state: string;
  tenantId: string;
}

export interface IdentityBlock {
  type: string;
  principalId?: string;
  tenantId?: string;
  userAssignedIdentities?: Record<string, { principalId?: string; clientId?: string }>;
}

export interface ArmResource {
  id: string;
  name: string;
  type: string;
  location?: string;
  tags?: Record<string, string>;
  identity?: IdentityBlock;
  properties?: Record<string, unknown>;
}

export interface RoleAssignment {
  id: string;
  name: string;
  properties: {
    roleDefinitionId: string;
    principalId: string;
    principalType: string;
    scope: string;
    condition?: string | null;
    description?: string | null;
  };
}

export interface RoleDefinition {
  id: string;
  name: string;
  properties: { roleName: string; type: string; description: string };
}

export interface AccessPolicy {
  tenantId: string;
  objectId: string;
  applicationId?: string;
  permissions: { keys?: string[]; secrets?: string[]; certificates?: string[]; storage?: string[] };
}

export interface Container {
  id: string;
  name: string;
  properties?: { lastModifiedTime?: string; publicAccess?: string };
}

/** What an ARM id names. */
export type ScopeKind = 'root' | 'subscription' | 'group' | 'resource';

export function scopeKind(id: string): ScopeKind {
  const p = id.split('/').filter(Boolean);
  if (p.length === 0) return 'root';
  if (p.length === 2) return 'subscription';
  if (p.length === 4 && p[2]!.toLowerCase() === 'resourcegroups') return 'group';
  return 'resource';
}

export function parseId(id: string): { subscriptionId?: string; group?: string; type?: string; name: string } {
  const p = id.split('/').filter(Boolean);
  const out: { subscriptionId?: string; group?: string; type?: string; name: string } = { name: p[p.length - 1] ?? '' };
  if (p[0]?.toLowerCase() === 'subscriptions' && p[1]) out.subscriptionId = p[1];
  if (p[2]?.toLowerCase() === 'resourcegroups' && p[3]) out.group = p[3];
  const i = p.findIndex((x) => x.toLowerCase() === 'providers');
  if (i >= 0 && p[i + 1]) {
    const rest = p.slice(i + 2);
    out.type = [p[i + 1], ...rest.filter((_, k) => k % 2 === 0)].join('/');
  }
  return out;
}

export const isType = (r: { type: string }, type: string): boolean => r.type.toLowerCase() === type.toLowerCase();

export const T = {
  vm: 'Microsoft.Compute/virtualMachines',
  uai: 'Microsoft.ManagedIdentity/userAssignedIdentities',
  vault: 'Microsoft.KeyVault/vaults',
  storage: 'Microsoft.Storage/storageAccounts',
  site: 'Microsoft.Web/sites',
} as const;

/** Resource types whose `identity` the portal can edit (Azure's Identity blade). */
export const IDENTITY_TYPES = [T.vm, T.storage, T.site];
