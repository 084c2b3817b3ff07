/**
 * Azure's error bodies for authorization failures and the roleAssignments / roleDefinitions APIs
 * (authorization.md §4.1, §4.2, §1.8, §1.4). Messages are reproduced as data, wording and spacing included:
 * clients and scripts parse them. Golden files in test/golden/authz/ pin every one.
 */
import type { Caller } from '../core/caller.js';
import { KeylessError } from '../core/errors.js';
import { summarizeExplanation } from './explain.js';
import type { Explanation } from './types.js';

export { invalidActionOrNotAction } from '../core/actions.js';

/** Who the message names: the UPN for users, the app id for service principals (§4.1). */
export type ClientIdentity = Pick<Caller, 'clientName' | 'objectId'>;

export interface AuthorizationFailureOptions {
  /** An ABAC condition was evaluated on the deciding path: Azure then says "or an ABAC condition not fulfilled". */
  conditionInvolved?: boolean;
  /** Serialized out of band (audit, `x-keyless-authz`), never in the ARM body. */
  explanation?: Explanation;
}

function extra(explanation: Explanation | undefined, fallbackSummary: string): Record<string, unknown> {
  return explanation === undefined
    ? { summary: fallbackSummary }
    : { summary: summarizeExplanation(explanation), explanation };
}

/** 403 AuthorizationFailed (§4.1). */
export function authorizationFailed(client: ClientIdentity, action: string, scope: string, opts: AuthorizationFailureOptions = {}): KeylessError {
  const what = opts.conditionInvolved === true ? 'does not have authorization or an ABAC condition not fulfilled to perform' : 'does not have authorization to perform';
  return new KeylessError(
    403,
    'AuthorizationFailed',
    `The client '${client.clientName}' with object id '${client.objectId}' ${what} action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    { extra: extra(opts.explanation, `denied: principal ${client.objectId} lacks '${action}' at '${scope}'`) },
  );
}

/** The deny assignment an error names: its display name, GUID and scope. */
export type DenyingAssignment = { name: string; denyAssignmentName?: string | undefined; scope: string };

/**
 * 403 DenyAssignmentAuthorizationFailed: a role assignment grants the action but a deny assignment blocks it.
 * Azure's wording as observed on managed applications' and deployment stacks' deny assignments: the name is
 * the display name (`denyAssignmentName`), the Id the GUID without dashes, the scope the deny assignment's.
 */
export function denyAssignmentAuthorizationFailed(client: ClientIdentity, action: string, scope: string, deny: DenyingAssignment, opts: { explanation?: Explanation } = {}): KeylessError {
  const name = deny.denyAssignmentName ?? deny.name;
  return new KeylessError(
    403,
    'DenyAssignmentAuthorizationFailed',
    `The client '${client.clientName}' with object id '${client.objectId}' has permission to perform action '${action}' on scope '${scope}'; however, the access is denied because of the deny assignment with name '${name}' and Id '${withoutDashes(deny.name)}' at scope '${deny.scope}'.`,
    { extra: extra(opts.explanation, `denied: deny assignment '${name}' at '${deny.scope}' blocks '${action}' for ${client.objectId}`) },
  );
}

/**
 * 403 LinkedAuthorizationFailed (§4.2): the primary action is allowed but a linked one is not (attaching a
 * user-assigned identity needs `.../userAssignedIdentities/assign/action` on each identity). Linked scopes are
 * comma-joined without spaces.
 */
export function linkedAuthorizationFailed(
  client: ClientIdentity,
  primaryAction: string,
  primaryScope: string,
  linkedAction: string,
  linkedScopes: readonly string[],
  opts: { explanation?: Explanation } = {},
): KeylessError {
  const linked = linkedScopes.join(',');
  return new KeylessError(
    403,
    'LinkedAuthorizationFailed',
    `The client '${client.clientName}' with object id '${client.objectId}' has permission to perform action '${primaryAction}' on scope '${primaryScope}'; however, it does not have permission to perform action '${linkedAction}' on the linked scope(s) '${linked}' or the linked scope(s) are invalid.`,
    { extra: extra(opts.explanation, `denied: principal ${client.objectId} lacks '${linkedAction}' on linked scope(s) '${linked}'`) },
  );
}

/**
 * 403 LinkedAuthorizationFailed for custom-role writes over assignable scopes. Azure's troubleshooting page
 * quotes this variant with its own spacing ("linked scope(s)'…'" and "scope(s)are invalid", no final period);
 * kept verbatim because that is what was observed (§4.2, [S8]).
 */
export function roleDefinitionLinkedAuthorizationFailed(
  client: ClientIdentity,
  primaryScope: string,
  linkedScopes: readonly string[],
  opts: { explanation?: Explanation; action?: string } = {},
): KeylessError {
  // Deleting a custom role is checked over its assignable scopes the same way, with the delete action.
  const action = opts.action ?? 'Microsoft.Authorization/roleDefinitions/write';
  const linked = linkedScopes.join(',');
  return new KeylessError(
    403,
    'LinkedAuthorizationFailed',
    `The client '${client.clientName}' with object id '${client.objectId}' has permission to perform action '${action}' on scope '${primaryScope}'; however, it does not have permission to perform action '${action}' on the linked scope(s)'${linked}' or the linked scope(s)are invalid`,
    { extra: extra(opts.explanation, `denied: principal ${client.objectId} lacks '${action}' on '${linked}'`) },
  );
}

const withoutDashes = (guid: string): string => guid.replace(/-/g, '').toLowerCase();

/** 409 RoleAssignmentExists; newer responses name the existing assignment (GUID without dashes). */
export function roleAssignmentExists(existingAssignmentName?: string): KeylessError {
  const tail = existingAssignmentName === undefined ? '' : ` The ID of the existing role assignment is ${withoutDashes(existingAssignmentName)}.`;
  return new KeylessError(409, 'RoleAssignmentExists', `The role assignment already exists.${tail}`);
}

/** 400 PrincipalNotFound (replication-delay advice included, two spaces before "See" as Azure sends it). */
export function principalNotFound(principalId: string, tenantId: string): KeylessError {
  return new KeylessError(
    400,
    'PrincipalNotFound',
    `Principal ${withoutDashes(principalId)} does not exist in the directory ${tenantId}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype`,
  );
}

/** 409 RoleAssignmentUpdateNotPermitted: an assignment's principal, role, scope or tenant cannot change. */
export function roleAssignmentUpdateNotPermitted(): KeylessError {
  return new KeylessError(409, 'RoleAssignmentUpdateNotPermitted', 'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.');
}

/**
 * Removing the last Owner assignment at subscription scope (§1.8). The message is Azure's; the code and status
 * are not documented publicly and are Keyless's choice (listed in docs/deviations when the lead wires it).
 */
export function lastOwnerAssignment(): KeylessError {
  return new KeylessError(409, 'CannotDeleteLastRbacAdminAssignment', 'Cannot delete the last RBAC admin assignment');
}

/** 409 RoleDefinitionHasAssignments: a custom role cannot be deleted while assignments reference it. */
export function roleDefinitionHasAssignments(): KeylessError {
  return new KeylessError(409, 'RoleDefinitionHasAssignments', 'There are existing role assignments referencing role');
}

/** 409 RoleDefinitionWithSameNameExists: custom role names are unique per directory. */
export function roleDefinitionWithSameNameExists(): KeylessError {
  return new KeylessError(409, 'RoleDefinitionWithSameNameExists', 'A custom role with the same name already exists in this directory. Use a different name.');
}

/** 404 RoleDefinitionDoesNotExist for an assignment naming an unknown role. */
export function roleDefinitionDoesNotExist(roleDefinitionId: string): KeylessError {
  return new KeylessError(404, 'RoleDefinitionDoesNotExist', `The specified role definition with ID '${roleDefinitionId.slice(roleDefinitionId.lastIndexOf('/') + 1)}' does not exist.`);
}

/**
 * 404 RoleDefinitionDoesNotExist for a custom role used outside its assignable scopes: Azure resolves a role
 * definition at the assignment's scope, where such a role is not visible (inference, docs/deviations/authz.md).
 */
export function roleDefinitionNotAssignableAt(roleDefinitionId: string, scope: string, assignableScopes: readonly string[]): KeylessError {
  const e = roleDefinitionDoesNotExist(roleDefinitionId);
  return new KeylessError(e.status, e.code, e.message, {
    detail: `role is assignable only at or below ${assignableScopes.join(', ')}; requested scope ${scope}`,
  });
}

/** 400 for a role definition name that is not a GUID (Keyless's code; Azure's wording for assignments). */
export function invalidRoleDefinitionId(name: string): KeylessError {
  return new KeylessError(400, 'InvalidRoleDefinitionId', `The role definition ID '${name}' is not valid. The role definition ID must be a GUID.`);
}

/** Built-in roles are Azure's data: never overwritten or deleted (code and wording are Keyless's choice). */
export function builtInRoleDefinitionReadOnly(guid: string): KeylessError {
  return new KeylessError(400, 'CannotModifyBuiltInRoleDefinition', `The role definition '${guid}' is a built-in role and cannot be modified or deleted.`);
}

/**
 * 400 when a custom role is written at a scope that is not one of its assignable scopes nor inside one
 * (Azure refuses; its code is not documented publicly, this one is Keyless's choice).
 */
export function roleDefinitionScopeNotAssignable(scope: string): KeylessError {
  return new KeylessError(
    400,
    'InvalidRoleDefinitionScope',
    `The role definition cannot be written at scope '${scope}': the scope must be one of the role's assignable scopes or lie within one of them.`,
  );
}
