/**
 * Key Vault access policies, the legacy model (authorization.md §5): a vault-wide list of identities and the
 * operations each may perform. Pure: validation, merging (`accessPolicies/{add|replace|remove}`), evaluation.
 */
export type PermissionKind = 'keys' | 'secrets' | 'certificates' | 'storage';
export const PERMISSION_KINDS: readonly PermissionKind[] = ['keys', 'secrets', 'certificates', 'storage'];

export const PERMISSIONS: Record<PermissionKind, readonly string[]> = {
  keys: ['all', 'encrypt', 'decrypt', 'wrapKey', 'unwrapKey', 'sign', 'verify', 'get', 'list', 'create', 'update', 'import', 'delete', 'backup', 'restore', 'recover', 'purge', 'release', 'rotate', 'getrotationpolicy', 'setrotationpolicy'],
  secrets: ['all', 'get', 'list', 'set', 'delete', 'backup', 'restore', 'recover', 'purge'],
  certificates: ['all', 'get', 'list', 'delete', 'create', 'import', 'update', 'managecontacts', 'getissuers', 'listissuers', 'setissuers', 'deleteissuers', 'manageissuers', 'recover', 'purge', 'backup', 'restore'],
  storage: ['all', 'get', 'list', 'delete', 'set', 'update', 'regeneratekey', 'recover', 'purge', 'backup', 'restore', 'setsas', 'listsas', 'getsas', 'deletesas'],
};

export interface AccessPolicyEntry {
  tenantId: string;
  objectId: string;
  applicationId?: string;
  permissions: Partial<Record<PermissionKind, string[]>>;
}

export const MAX_ACCESS_POLICIES = 1024;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class AccessPolicyError extends Error {
  override name = 'AccessPolicyError';
}

/** Validates an `accessPolicies` array as clients send it; keeps the casing they used. */
export function parseAccessPolicies(input: unknown, path = 'properties.accessPolicies'): AccessPolicyEntry[] {
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input)) throw new AccessPolicyError(`Invalid value for '${path}': an array was expected.`);
  if (input.length > MAX_ACCESS_POLICIES) throw new AccessPolicyError(`The number of access policies exceeds the maximum of ${MAX_ACCESS_POLICIES}.`);
  return input.map((raw, i) => parseEntry(raw, `${path}[${i}]`));
}

function parseEntry(raw: unknown, path: string): AccessPolicyEntry {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new AccessPolicyError(`Invalid value for '${path}': an object was expected.`);
  const r = raw as Record<string, unknown>;
  const tenantId = r['tenantId'];
  const objectId = r['objectId'];
  if (typeof tenantId !== 'string' || !GUID.test(tenantId)) throw new AccessPolicyError(`Invalid value for '${path}.tenantId': a GUID is required.`);
  if (typeof objectId !== 'string' || objectId.trim() === '') throw new AccessPolicyError(`Invalid value for '${path}.objectId': a value is required.`);
  const applicationId = r['applicationId'];
  if (applicationId !== undefined && applicationId !== null && (typeof applicationId !== 'string' || !GUID.test(applicationId))) {
    throw new AccessPolicyError(`Invalid value for '${path}.applicationId': a GUID is required.`);
  }
  const perms = r['permissions'];
  if (typeof perms !== 'object' || perms === null || Array.isArray(perms)) throw new AccessPolicyError(`Invalid value for '${path}.permissions': an object is required.`);
  const permissions: Partial<Record<PermissionKind, string[]>> = {};
  for (const kind of PERMISSION_KINDS) {
    const list = (perms as Record<string, unknown>)[kind];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) throw new AccessPolicyError(`Invalid value for '${path}.permissions.${kind}': an array was expected.`);
    permissions[kind] = list.map((v, j) => {
      const known = typeof v === 'string' ? PERMISSIONS[kind].find((p) => p.toLowerCase() === v.toLowerCase()) : undefined;
      if (!known) throw new AccessPolicyError(`Invalid value found at ${path}.permissions.${kind}[${j}]: ${String(v)}`);
      return v as string;
    });
  }
  const entry: AccessPolicyEntry = { tenantId, objectId, permissions };
  if (typeof applicationId === 'string') entry.applicationId = applicationId;
  return entry;
}

const identityKey = (e: AccessPolicyEntry): string => `${e.tenantId}|${e.objectId}|${e.applicationId ?? ''}`.toLowerCase();

function uniq(values: string[]): string[] {
  const seen = new Set<string>();
  return values.filter((v) => (seen.has(v.toLowerCase()) ? false : (seen.add(v.toLowerCase()), true)));
}

/**
 * `PUT …/accessPolicies/{add|replace|remove}`: entries are matched by (tenantId, objectId, applicationId).
 * add unions permissions into the matching entry (or appends it); replace overwrites the matching entry's
 * permissions (or appends it); remove takes the listed permissions away and drops an entry left with none
 * (an entry listing no permissions at all is removed outright).
 */
export function mergeAccessPolicies(current: AccessPolicyEntry[], changes: AccessPolicyEntry[], kind: 'add' | 'replace' | 'remove'): AccessPolicyEntry[] {
  const out = current.map((e) => ({ ...e, permissions: { ...e.permissions } }));
  for (const change of changes) {
    const i = out.findIndex((e) => identityKey(e) === identityKey(change));
    const existing = i >= 0 ? out[i] : undefined;
    if (kind === 'remove') {
      if (!existing) continue;
      const listed = PERMISSION_KINDS.some((k) => (change.permissions[k]?.length ?? 0) > 0);
      if (!listed) {
        out.splice(i, 1);
        continue;
      }
      for (const k of PERMISSION_KINDS) {
        const drop = new Set((change.permissions[k] ?? []).map((p) => p.toLowerCase()));
        if (existing.permissions[k]) existing.permissions[k] = existing.permissions[k]!.filter((p) => !drop.has(p.toLowerCase()));
      }
      if (PERMISSION_KINDS.every((k) => (existing.permissions[k]?.length ?? 0) === 0)) out.splice(i, 1);
      continue;
    }
    if (!existing) {
      out.push({ ...change, permissions: { ...change.permissions } });
      continue;
    }
    for (const k of PERMISSION_KINDS) {
      const next = change.permissions[k];
      if (next === undefined) continue;
      existing.permissions[k] = kind === 'replace' ? [...next] : uniq([...(existing.permissions[k] ?? []), ...next]);
    }
  }
  if (out.length > MAX_ACCESS_POLICIES) throw new AccessPolicyError(`The number of access policies exceeds the maximum of ${MAX_ACCESS_POLICIES}.`);
  return out;
}

export interface PolicyCaller {
  objectId: string;
  appId: string;
  tenantId: string;
}

/**
 * Does any entry grant `permission` on `kind` to this caller? An entry names a principal (objectId); with
 * an applicationId it is a compound identity and applies only when the caller comes through that app.
 * `all` grants every permission of its kind.
 */
export function policyGrants(policies: readonly AccessPolicyEntry[], caller: PolicyCaller, kind: PermissionKind, permission: string): boolean {
  const want = permission.toLowerCase();
  return policies.some((e) => {
    if (e.objectId.toLowerCase() !== caller.objectId.toLowerCase()) return false;
    if (caller.tenantId && e.tenantId.toLowerCase() !== caller.tenantId.toLowerCase()) return false;
    if (e.applicationId && e.applicationId.toLowerCase() !== caller.appId.toLowerCase()) return false;
    return (e.permissions[kind] ?? []).some((p) => p.toLowerCase() === want || p.toLowerCase() === 'all');
  });
}
