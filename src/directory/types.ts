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

/** A certificate registered on an application (its keyCredential); thumbprints are upper-case hex of the DER. */
export interface CertificateCredential {
  id: string;
  objectId: string;
  displayName: string;
  thumbprintSha1: string;
  thumbprintSha256: string;
  certPem: string;
  /** validity of the certificate, epoch ms */
  startAt: number;
  endAt: number;
}
