/** The wire body of an ARM resource, as clients PUT and GET it. */
export interface ArmDocument {
  id: string;
  name: string;
  type: string;
  location?: string;
  tags?: Record<string, string>;
  identity?: IdentityDocument;
  properties?: Record<string, unknown>;
  [extra: string]: unknown;
}

export interface IdentityDocument {
  type: string;
  principalId?: string;
  tenantId?: string;
  userAssignedIdentities?: Record<string, { principalId: string; clientId: string }>;
}

export interface StoredResource {
  key: string;
  id: string;
  typeKey: string;
  subscriptionId: string;
  groupKey: string | null;
  parentKey: string | null;
  name: string;
  body: ArmDocument;
  internal: ResourceInternal;
  etag: string;
  createdAt: number;
  updatedAt: number;
}

/** Server-side facts about a resource that are not part of its ARM body. */
export interface ResourceInternal {
  /** Loopback address of this VM's IMDS endpoint (caller binding). */
  imdsAddress?: string;
  /** objectId of the system-assigned identity, if enabled. */
  systemPrincipalId?: string;
  /** Normalized ids of attached user-assigned identities → display id. */
  userAssigned?: Record<string, string>;
  [k: string]: unknown;
}
