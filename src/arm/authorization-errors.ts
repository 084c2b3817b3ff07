import type { AccessResult } from '../core/access.js';
import type { Caller } from '../core/caller.js';
import type { KeylessError } from '../core/errors.js';
import { authorizationFailed as build } from '../authz/errors.js';
import type { Explanation } from '../authz/types.js';

export { linkedAuthorizationFailed } from '../authz/errors.js';

/** Azure's AuthorizationFailed body from an access decision; the explanation travels out of band. */
export function authorizationFailed(caller: Caller, action: string, scope: string, r: AccessResult): KeylessError {
  return build(caller, action, scope, { conditionInvolved: r.conditionInvolved, explanation: r.explanation as Explanation });
}
