export type PrincipalKind = 'SystemAssigned' | 'UserAssigned' | 'Application';

/** A service principal: principalId = objectId, clientId = appId (Entra's naming on either side). */
export interface Principal {
  objectId: string;
  appId: string;
  tenantId: string;
  kind: PrincipalKind;
  displayName: string;
  /** Host resource (system-assigned) or the identity resource itself (user-assigned); null for applications. */
  resourceId: string | null;
  createdAt: number;
}

export const isManagedIdentity = (p: Principal): boolean => p.kind !== 'Application';
