/** Shapes the portal's own API returns; imported by the server and by the UI bundle (no runtime code). */

export interface SessionInfo {
  principal: { objectId: string; appId: string; displayName: string };
  tenantId: string;
  /** The subscription Keyless created at first start; the UI lists every subscription the principal can read. */
  defaultSubscriptionId: string;
  csrfToken: string;
  /** epoch ms */
  expiresAt: number;
  idleTimeoutSec: number;
  dnsSuffix: string;
}

export interface PrincipalName {
  objectId: string;
  displayName: string;
  kind: 'SystemAssigned' | 'UserAssigned' | 'Application';
  appId: string;
  resourceId: string | null;
}

export interface SecretListItem {
  name: string;
  id: string;
  enabled: boolean;
  contentType?: string | undefined;
  /** epoch seconds */
  updated?: number | undefined;
}

export interface BlobListItem {
  name: string;
  size: number;
  contentType: string | undefined;
  lastModified: string | undefined;
}

/** Every error the portal API returns, whatever surface it came from. */
export interface ApiErrorBody {
  error: { code: string; message: string };
}
