import { isAuditOnly, type AccessCheck, type AccessControl, type AccessResult } from '../core/access.js';
import type { Caller } from '../core/caller.js';
import { authorizationFailed } from './authorization-errors.js';

/** A request let through only because authorization runs in audit mode: what enforce mode would have refused. */
export interface AuditOnlyDenial {
  action: string;
  scope: string;
  summary: string;
  explanation: unknown;
}

/** Where an enforcement point reports an audit-mode would-be denial (the request's audit record and log). */
export type AuditOnlySink = (d: AuditOnlyDenial) => void;

export type ArmCheck = Pick<AccessCheck, 'action' | 'scope' | 'attributes'>;

/**
 * One enforcement point: asks the engine with the mode applied and, when only audit mode let the request
 * through, tells `sink` — so `--authz audit` logs what it would have refused instead of passing it silently.
 * List filtering does not come here: hiding an unreadable item is not a refusal.
 */
export function checkAccess(access: AccessControl, caller: Caller, check: ArmCheck, sink?: AuditOnlySink): AccessResult {
  const r = access.check({ principalId: caller.objectId, isDataAction: false, action: check.action, scope: check.scope, ...(check.attributes ? { attributes: check.attributes } : {}) });
  if (sink !== undefined && isAuditOnly(r)) sink({ action: check.action, scope: check.scope, summary: r.summary, explanation: r.explanation });
  return r;
}

/** checkAccess, refusing with Azure's 403 body when the mode enforces. */
export function demandAccess(access: AccessControl, caller: Caller, check: ArmCheck, sink?: AuditOnlySink): void {
  const r = checkAccess(access, caller, check, sink);
  if (!r.allowed) throw authorizationFailed(caller, check.action, check.scope, r);
}
