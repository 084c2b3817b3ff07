import type { Generated } from 'kysely';

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
