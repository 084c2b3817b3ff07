import { isAuditOnly, type AccessControl, type AccessResult } from '../core/access.js';
import type { KeylessError } from '../core/errors.js';
import type { BlobPrincipal } from './auth/authenticate.js';
import { checkSasPermission } from './auth/sas.js';
import type { StorageAccount } from './domain/accounts.js';
import { authorizationPermissionMismatch, isStorageError } from './errors.js';
import type { OperationSpec } from './operations.js';

/** The outcome of step 2, kept for the audit record whether or not it allowed the request. */
export interface BlobDecision {
  allowed: boolean;
  action: string;
  scope: string;
  via: string;
  /** Why, in one line (for a grant: the role and where it is assigned; cheap, no explanation is traced). */
  summary?: string;
  explanation?: unknown;
  error?: KeylessError;
  /** Allowed only because authorization runs in audit mode (kept with its explanation for the audit record). */
  auditOnly?: boolean;
}

export interface AuthorizationTarget {
  container: string | undefined;
  blob: string | undefined;
  /** List Blobs' `prefix`, an ABAC request attribute. */
  prefix: string | undefined;
  /**
   * Whether the addressed blob exists (create-only permissions). Asked only when the answer depends on it, so a
   * caller allowed to overwrite pays no look-up.
   */
  exists(): Promise<boolean>;
}

const ATTR = {
  account: 'Microsoft.Storage/storageAccounts:name',
  hns: 'Microsoft.Storage/storageAccounts:isHnsEnabled',
  container: 'Microsoft.Storage/storageAccounts/blobServices/containers:name',
  path: 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path',
  prefix: 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs:prefix',
};

/** Container-level and blob-level requests are authorized at the container; service-level at the blob service. */
export function blobScope(account: StorageAccount, container: string | undefined): string {
  const service = `${account.id}/blobServices/default`;
  return container === undefined ? service : `${service}/containers/${container}`;
}

/**
 * Step 2. Bearer callers go through RBAC with the operation's action and the ABAC attributes Storage defines
 * (authorization.md §1.7, §3.2): holding a control-plane role such as Owner grants no blob data. A Shared Key
 * caller holds the account key, which is full access; a SAS grants what its fields say.
 */
export async function authorizeBlob(access: AccessControl, principal: BlobPrincipal, op: OperationSpec, account: StorageAccount, t: AuthorizationTarget): Promise<BlobDecision> {
  const scope = blobScope(account, t.container);
  if (principal.kind === 'sharedKey') {
    return { allowed: true, action: op.rbac.action, scope, via: `sharedKey:${principal.keyName}`, summary: `account key ${principal.keyName}` };
  }
  if (principal.kind === 'sas') {
    const via = `${principal.sas.kind}Sas:${principal.keyName}`;
    const summary = `${principal.sas.kind} SAS sp=${principal.sas.sp}${principal.sas.sr ? ` sr=${principal.sas.sr}` : ''}${principal.sas.srt ? ` srt=${principal.sas.srt}` : ''}`;
    try {
      // Existence matters only to a create-only SAS (`c` without `w`).
      const exists = op.createOnly === true && !principal.sas.sp.includes('w') ? await t.exists() : false;
      checkSasPermission(principal.sas, op, exists);
      return { allowed: true, action: op.rbac.action, scope, via, summary };
    } catch (e) {
      if (!isStorageError(e)) throw e;
      return { allowed: false, action: op.rbac.action, scope, via, summary: `${summary}: ${e.code}`, error: e };
    }
  }

  const caller = principal.caller;
  const groups = caller.claims?.['groups'];
  const resource: Record<string, unknown> = { [ATTR.account]: account.name, [ATTR.hns]: false };
  if (t.container !== undefined) resource[ATTR.container] = t.container;
  if (t.blob !== undefined) resource[ATTR.path] = t.blob;
  const request: Record<string, unknown> = {};
  if (t.prefix !== undefined) request[ATTR.prefix] = t.prefix;
  const ask = (action: string): AccessResult =>
    access.check({
      principalId: caller.objectId,
      ...(Array.isArray(groups) ? { groupIds: groups.filter((g): g is string => typeof g === 'string') } : {}),
      action,
      isDataAction: op.rbac.dataAction,
      scope,
      attributes: { resource, request, ...(op.rbac.subOperation ? { subOperation: op.rbac.subOperation } : {}) },
    });

  let action = op.rbac.action;
  let r = ask(action);
  // A new blob may be created with `add/action` alone (Storage Blob Data Contributor's "create only" half).
  if (!r.allowed && op.rbac.createAlternative && !(await t.exists())) {
    const alt = ask(op.rbac.createAlternative);
    if (alt.allowed) {
      action = op.rbac.createAlternative;
      r = alt;
    }
  }
  const decision: BlobDecision = { allowed: r.allowed, action, scope, via: 'bearer', summary: r.summary };
  if (isAuditOnly(r)) {
    decision.explanation = r.explanation;
    decision.auditOnly = true;
  }
  if (!r.allowed) {
    decision.explanation = r.explanation;
    decision.error = authorizationPermissionMismatch(`${caller.objectId} lacks ${action} at ${scope}: ${r.summary}`);
  }
  return decision;
}
