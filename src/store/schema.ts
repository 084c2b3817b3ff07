import type { ColumnType, Generated } from 'kysely';

/**
 * The relational schema. JSON documents are kept as TEXT in both dialects so one set of queries serves
 * SQLite and PostgreSQL; timestamps are epoch milliseconds (BIGINT, parsed to number for pg).
 * `*_key` columns hold the case-folded form ARM compares by; display casing lives in the documents.
 */
export interface MetaTable {
  key: string;
  value: string;
}

export interface TenantTable {
  id: string;
  display_name: string;
  created_at: number;
}

export interface SubscriptionTable {
  id: string;
  tenant_id: string;
  display_name: string;
  state: string;
  created_at: number;
}

/** Service principals: managed identities (system/user) and applications. */
export interface PrincipalTable {
  object_id: string;
  app_id: string;
  tenant_id: string;
  kind: 'SystemAssigned' | 'UserAssigned' | 'Application';
  display_name: string;
  /** ARM id the identity belongs to (host resource for system-assigned, the identity itself for user-assigned). */
  resource_id: string | null;
  resource_key: string | null;
  created_at: number;
}

export interface CredentialTable {
  id: string;
  object_id: string;
  kind: 'secret' | 'certificate';
  display_name: string;
  /** secret: salted hash; certificate: null. */
  secret_hash: string | null;
  hint: string | null;
  thumbprint_sha1: string | null;
  thumbprint_sha256: string | null;
  cert_pem: string | null;
  start_at: number;
  end_at: number;
  created_at: number;
}

/** Every ARM resource (groups, VMs, identities, vaults, accounts, child resources) as one document. */
export interface ResourceTable {
  key: string;
  id: string;
  type_key: string;
  subscription_id: string;
  group_key: string | null;
  parent_key: string | null;
  name: string;
  body: string;
  /** Server-side state that is never put on the wire as-is (IMDS address, endpoint secrets…). */
  internal: string;
  etag: string;
  created_at: number;
  updated_at: number;
}

export interface RoleDefinitionTable {
  name: string;
  body: string;
  updated_at: number;
}

export interface RoleAssignmentTable {
  name: string;
  scope_key: string;
  principal_id: string;
  role_definition_name: string;
  body: string;
  created_at: number;
}

export interface DenyAssignmentTable {
  name: string;
  scope_key: string;
  body: string;
  created_at: number;
}

export interface SigningKeyTable {
  kid: string;
  state: string;
  body: string;
  created_at: number;
}

export interface DataKeyTable {
  id: string;
  wrapped: string;
  created_at: number;
}

export interface ChangeTable {
  seq: Generated<number>;
  topic: string;
  key: string;
  at: number;
}

export interface Database {
  meta: MetaTable;
  tenants: TenantTable;
  subscriptions: SubscriptionTable;
  principals: PrincipalTable;
  credentials: CredentialTable;
  resources: ResourceTable;
  role_definitions: RoleDefinitionTable;
  role_assignments: RoleAssignmentTable;
  deny_assignments: DenyAssignmentTable;
  signing_keys: SigningKeyTable;
  data_keys: DataKeyTable;
}

/** Key Vault secrets: one row per name (live or soft-deleted), versions below it. */
export interface KvSecretTable {
  vault_key: string;
  name_key: string;
  name: string;
  latest_version: string;
  deleted_at: number | null;
  scheduled_purge_at: number | null;
  created_at: number;
}

export interface KvSecretVersionTable {
  vault_key: string;
  name_key: string;
  version: string;
  /** The value, sealed by the keyring with AAD naming vault, secret and version. */
  sealed_value: string;
  content_type: string | null;
  /** JSON object or null. */
  tags: string | null;
  /** 0/1: one integer type in both dialects. */
  enabled: number;
  nbf: number | null;
  exp: number | null;
  created_at: number;
  updated_at: number;
  seq: number;
}

/** Soft-deleted vaults, holding their name until purged. */
export interface KvDeletedVaultTable {
  name_key: string;
  vault_id: string;
  subscription_id: string;
  location: string;
  /** The vault's ARM document at deletion. */
  body: string;
  deleted_at: number;
  scheduled_purge_at: number;
}

/** Blob containers (data plane and ARM `blobServices/default/containers` share these rows). */
export interface BlobContainerTable {
  account: string;
  name: string;
  /** JSON object of metadata, names in the case they were sent. */
  metadata: string;
  etag: string;
  created_at: number;
  last_modified: number;
}

/** Committed block blobs. */
export interface BlobObjectTable {
  account: string;
  container: string;
  name: string;
  size: number;
  content_type: string | null;
  content_encoding: string | null;
  content_language: string | null;
  content_md5: string | null;
  cache_control: string | null;
  content_disposition: string | null;
  metadata: string;
  /** JSON list of data row references, in blob order. */
  blocks: string;
  etag: string;
  created_at: number;
  last_modified: number;
}

/** Blob bytes: committed pieces and staged (uncommitted) blocks. */
export interface BlobDataTable {
  id: string;
  account: string;
  container: string;
  blob: string;
  block_id: string | null;
  staged: number;
  size: number;
  data: Buffer;
  created_at: number;
}

export interface Database {
  blob_containers: BlobContainerTable;
  blob_objects: BlobObjectTable;
  blob_data: BlobDataTable;
}

// Declaration merging keeps each surface's tables in its own block.
export interface Database {
  kv_secrets: KvSecretTable;
  kv_secret_versions: KvSecretVersionTable;
  kv_deleted_vaults: KvDeletedVaultTable;
}

/** The audit trail (src/audit): one row per sign-in, activity or data-access event; details in `body` (JSON). */
export interface AuditEventTable {
  seq: Generated<number>;
  id: string;
  at: number;
  category: 'signin' | 'activity' | 'data';
  /** succeeded | failed | denied */
  result: string;
  http_status: number | null;
  principal_id: string | null;
  app_id: string | null;
  /** Sign-in: the endpoint (imds, oauth2-v2 …); activity and data: the action string. */
  operation: string;
  scope: string | null;
  /** Lower-cased `scope`, for prefix and resource filters. */
  scope_key: string | null;
  subscription_id: string | null;
  resource_group: string | null;
  correlation_id: string | null;
  body: string;
  /** How many identical events this row stands for (granted data-plane repeats within one write batch). */
  repeats: ColumnType<number, number | undefined, number>;
}

export interface Database {
  audit_events: AuditEventTable;
}

/** Portal sign-in sessions (src/portal/session.ts), keyed by the SHA-256 of the session id. */
export interface PortalSessionTable {
  id_hash: string;
  object_id: string;
  app_id: string;
  display_name: string;
  tenant_id: string;
  /** The session's CSRF token, sealed by the keyring with AAD naming the session. */
  sealed_csrf: string;
  created_at: number;
  expires_at: number;
  last_seen_at: number;
}

export interface Database {
  portal_sessions: PortalSessionTable;
}
