import type { AccessResult } from '../core/access.js';
import type { Caller } from '../core/caller.js';
import type { KeylessError } from '../core/errors.js';
import { authorizationFailed as build, denyAssignmentAuthorizationFailed } from '../authz/errors.js';
import type { Explanation } from '../authz/types.js';

export { linkedAuthorizationFailed } from '../authz/errors.js';

/**
 * Azure's 403 body from an access decision; the explanation travels out of band. A deny assignment that blocks
 * what a role assignment grants gets DenyAssignmentAuthorizationFailed ("has permission …; however, the access is
 * denied because of the deny assignment …"); with no grant to begin with the caller "does not have
 * authorization" whatever denies too, so it stays AuthorizationFailed (docs/deviations/authz.md).
 */
export function authorizationFailed(caller: Caller, action: string, scope: string, r: AccessResult): KeylessError {
  const explanation = r.explanation as Explanation;
  if (explanation.reason === 'denied-by-deny-assignment' && explanation.assignments.some((a) => a.outcome === 'granted')) {
    const hit = explanation.denyAssignments.find((d) => d.outcome === 'applied');
    if (hit) return denyAssignmentAuthorizationFailed(caller, action, scope, hit, { explanation });
  }
  return build(caller, action, scope, { conditionInvolved: r.conditionInvolved, explanation });
}
