import { isAuditOnly, type AccessControl } from '../core/access.js';
import type { Caller } from '../core/caller.js';
import type { DataAccessEvent } from '../core/data-access.js';
import type { KeylessError } from '../core/errors.js';
import { policyGrants } from './access-policy.js';
import { forbiddenByPolicy, forbiddenByRbac } from './forbidden.js';
import { SECRET_OPERATIONS, type SecretOperationName } from './operations.js';
import type { VaultInfo } from './vault-info.js';

export interface KvAccessDecision {
  allowed: boolean;
  /** What the audit trail records for this request. */
  event: DataAccessEvent;
  /** Key Vault's 403 when the request is refused (audit and off modes let access-policy denials through). */
  denial?: KeylessError;
}

/**
 * RBAC data actions on vaults with enableRbacAuthorization, the vault's access policies otherwise. Pure: the
 * caller records `event` and throws `denial`, so a fast path can decide first and fall back without side effects.
 */
export function decideKvAccess(
  access: AccessControl,
  vault: VaultInfo,
  caller: Caller,
  opName: SecretOperationName,
  secretName: string | undefined,
  secretScope?: string,
): KvAccessDecision {
  const op = SECRET_OPERATIONS[opName];
  const scope = op.scope === 'secret' && secretName ? (secretScope ?? `${vault.id}/secrets/${secretName}`) : vault.id;
  const who = { surface: 'keyvault' as const, principalId: caller.objectId, appId: caller.appId, via: caller.via };
  if (vault.rbac) {
    const r = access.check({ principalId: caller.objectId, action: op.dataAction, isDataAction: true, scope });
    if (isAuditOnly(r)) {
      // Audit mode let a refusal through: recorded with its explanation, as a denial would be, and flagged.
      return { allowed: true, event: { ...who, action: op.dataAction, scope, allowed: true, status: 200, summary: r.summary, explanation: r.explanation, auditOnly: true } };
    }
    if (r.allowed) {
      // One literal shape for the hottest case (a granted read): no spread, no per-call hidden-class work.
      const event: DataAccessEvent = { surface: 'keyvault', principalId: caller.objectId, appId: caller.appId, via: caller.via, action: op.dataAction, scope, allowed: true, status: 200, summary: r.summary };
      return { allowed: true, event };
    }
    return {
      allowed: false,
      event: { ...who, action: op.dataAction, scope, allowed: false, status: 403, summary: r.summary, explanation: r.explanation },
      denial: forbiddenByRbac({
        caller,
        action: op.dataAction,
        resource: scope,
        vaultName: vault.name,
        location: vault.location,
        denyAssignmentId: denyAssignmentOf(r.explanation),
        summary: r.summary,
        explanation: r.explanation,
      }),
    };
  }
  const granted = policyGrants(vault.accessPolicies, caller, op.kind, op.permission);
  // The server-wide mode applies to both models: audit and off let a denial through, but it is recorded.
  const allowed = granted || access.mode !== 'enforce';
  const denial = granted ? undefined : forbiddenByPolicy({ caller, kind: op.kind, permission: op.permission, vaultName: vault.name, location: vault.location });
  const event: DataAccessEvent = {
    ...who,
    action: `${op.kind}/${op.permission} (access policy; ${op.dataAction})`,
    scope,
    allowed,
    status: allowed ? 200 : 403,
    ...(denial ? { summary: String(denial.extra['summary']), explanation: denial.extra['explanation'] } : {}),
    ...(allowed && denial ? { auditOnly: access.mode === 'audit' } : {}),
  };
  return allowed ? { allowed, event } : { allowed, event, ...(denial ? { denial } : {}) };
}

function denyAssignmentOf(explanation: unknown): string | undefined {
  // Read structurally: the explanation is the engine's (authz/types.ts Explanation), opaque to surfaces.
  const e = explanation as { reason?: string; denyAssignments?: { outcome?: string; denyAssignmentId?: string; name?: string }[] } | undefined;
  if (e?.reason !== 'denied-by-deny-assignment') return undefined;
  const d = e.denyAssignments?.find((x) => x.outcome === 'applied');
  return d?.denyAssignmentId ?? d?.name;
}
