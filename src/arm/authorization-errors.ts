import type { AccessResult } from '../core/access.js';
import type { Caller } from '../core/caller.js';
import { KeylessError } from '../core/errors.js';

/** Azure's exact AuthorizationFailed wording (authorization.md §4.1), plus the engine's explanation out of band. */
export function authorizationFailed(caller: Caller, action: string, scope: string, r: AccessResult): KeylessError {
  const what = r.conditionInvolved ? 'does not have authorization or an ABAC condition not fulfilled to perform' : 'does not have authorization to perform';
  return new KeylessError(
    403,
    'AuthorizationFailed',
    `The client '${caller.clientName}' with object id '${caller.objectId}' ${what} action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    { extra: { summary: r.summary, explanation: r.explanation } },
  );
}

export function linkedAuthorizationFailed(
  caller: Caller,
  primaryAction: string,
  primaryScope: string,
  linkedAction: string,
  linkedScopes: string[],
): KeylessError {
  return new KeylessError(
    403,
    'LinkedAuthorizationFailed',
    `The client '${caller.clientName}' with object id '${caller.objectId}' has permission to perform action '${primaryAction}' on scope '${primaryScope}'; however, it does not have permission to perform action '${linkedAction}' on the linked scope(s) '${linkedScopes.join(',')}' or the linked scope(s) are invalid.`,
    { extra: { summary: `missing ${linkedAction} on ${linkedScopes.join(',')}`, explanation: { linkedAction, linkedScopes } } },
  );
}
