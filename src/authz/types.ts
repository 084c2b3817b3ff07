/**
 * The authorization model as Azure puts it on the wire (authorization.md §1.1), plus the engine's request and
 * decision shapes. Field names follow the ARM `properties` bag so the ARM provider can serialize them as-is.
 */
import type { ConditionContext } from './conditions/index.js';

export type RoleType = 'BuiltInRole' | 'CustomRole';

export interface Permission {
  actions: string[];
  notActions: string[];
  dataActions: string[];
  notDataActions: string[];
  /** ABAC condition on the permission block (e.g. Key Vault Data Access Administrator). */
  condition?: string | null;
  conditionVersion?: string | null;
}

export interface RoleDefinition {
  /** `/providers/Microsoft.Authorization/roleDefinitions/{guid}` for built-ins; custom roles may be subscription-prefixed. */
  id: string;
  /** The GUID. */
  name: string;
  roleName: string;
  roleType: RoleType;
  description: string;
  assignableScopes: string[];
  permissions: Permission[];
  createdOn?: string;
  updatedOn?: string;
  createdBy?: string | null;
  updatedBy?: string | null;
}

export type PrincipalType = 'User' | 'Group' | 'ServicePrincipal' | 'ForeignGroup' | 'Device';

export interface RoleAssignment {
  /** `{scope}/providers/Microsoft.Authorization/roleAssignments/{name}` */
  id: string;
  /** GUID, globally unique. */
  name: string;
  scope: string;
  /** Full role definition id; compared by its trailing GUID. */
  roleDefinitionId: string;
  principalId: string;
  principalType: PrincipalType;
  condition?: string | null;
  conditionVersion?: string | null;
  description?: string | null;
  createdOn?: string;
  updatedOn?: string;
  createdBy?: string | null;
  updatedBy?: string | null;
  delegatedManagedIdentityResourceId?: string | null;
}

/** "All principals" in deny assignments (authorization.md §1.1). */
export const ALL_PRINCIPALS_ID = '00000000-0000-0000-0000-000000000000';

export interface DenyPrincipal {
  id: string;
  /** `User`, `Group`, `ServicePrincipal`, or `SystemDefined` for all principals. */
  type: string;
}

export interface DenyPermission {
  actions: string[];
  notActions: string[];
  dataActions: string[];
  notDataActions: string[];
}

export interface DenyAssignment {
  id: string;
  /** GUID: the resource name (the `Id` Azure's deny error quotes, without dashes). */
  name: string;
  /** The display name (`properties.denyAssignmentName`), which Azure's deny error quotes as its name. */
  denyAssignmentName?: string;
  description?: string;
  permissions: DenyPermission[];
  scope: string;
  doNotApplyToChildScopes: boolean;
  principals: DenyPrincipal[];
  excludePrincipals: DenyPrincipal[];
  isSystemProtected: boolean;
}

/** ABAC attributes supplied by the surface; `action` is filled in by the engine. */
export type RequestAttributes = Omit<ConditionContext, 'action'>;

export interface AccessRequest {
  principalId: string;
  /** The caller's groups, transitive membership already expanded (token `groups` claim semantics). */
  groupIds?: readonly string[];
  action: string;
  isDataAction: boolean;
  scope: string;
  attributes?: RequestAttributes;
}

export type DecisionReason =
  | 'allowed'
  | 'denied-by-deny-assignment'
  | 'no-matching-assignment'
  | 'condition-false'
  | 'authz-off';

/** Why one role assignment did or did not grant the requested action. */
export type AssignmentOutcome =
  | 'granted'
  | 'action-not-in-actions'
  | 'excluded-by-not-actions'
  | 'plane-mismatch'
  | 'condition-false'
  | 'role-not-found';

export interface AssignmentTrace {
  assignmentId: string;
  assignmentName: string;
  principalId: string;
  /** Set when the assignment reached the caller through a group. */
  viaGroup?: string;
  /** The ancestor scope the assignment sits at (assignment's own casing). */
  scope: string;
  roleDefinitionId: string;
  roleName?: string;
  outcome: AssignmentOutcome;
  /** The pattern that matched, or the NotActions pattern that excluded, when one did. */
  pattern?: string;
  /** Which condition failed: the assignment's or the role's. */
  conditionSource?: 'assignment' | 'role';
  detail: string;
}

export type DenyOutcome = 'applied' | 'principal-excluded' | 'principal-not-covered' | 'action-not-covered' | 'not-inherited';

export interface DenyTrace {
  denyAssignmentId: string;
  name: string;
  /** The display name, when it has one (Azure's deny error quotes it). */
  denyAssignmentName?: string | undefined;
  scope: string;
  outcome: DenyOutcome;
  detail: string;
}

export interface RoleSuggestion {
  roleName: string;
  id: string;
  name: string;
  /**
   * Estimated operations the role grants on the request's plane (catalog operations + one per pattern for other
   * providers, standard companion grants ignored); smaller is narrower.
   */
  breadth: number;
  /** The role's pattern that covers the action. */
  grantedBy: string;
  /** True when the role's grant carries an ABAC condition that may still refuse. */
  conditional: boolean;
}

export interface Explanation {
  request: {
    principalId: string;
    groupIds: string[];
    action: string;
    isDataAction: boolean;
    scope: string;
  };
  allowed: boolean;
  reason: DecisionReason;
  /** Scopes walked, narrowest first (target, parents, RG, subscription, management groups, `/`). */
  scopesChecked: string[];
  assignments: AssignmentTrace[];
  denyAssignments: DenyTrace[];
  /** Built-in roles that would grant the action at this scope, narrowest first (at most 5). */
  suggestions: RoleSuggestion[];
}

export interface Decision {
  readonly allowed: boolean;
  readonly reason: DecisionReason;
  readonly matchedAssignment?: RoleAssignment;
  /** `matchedAssignment.scope`, read without rebuilding the assignment (hot paths name it in their summary). */
  readonly matchedScope?: string;
  readonly matchedRole?: RoleDefinition;
  readonly matchedDenyAssignment?: DenyAssignment;
  /** True when an ABAC condition was evaluated on the deciding path (changes Azure's error wording, §4.1). */
  readonly conditionInvolved: boolean;
  /**
   * Re-walks the request with tracing; not computed on the hot path. For an 'authz-off' decision the
   * explanation reports what RBAC would have decided.
   */
  explain(): Explanation;
}
