/**
 * Validation of custom role definitions before they are stored (authorization.md §1.4, §1.5):
 *  - assignableScopes: at least one, each a valid scope, never `/` (only built-ins may), never a wildcard;
 *  - every action string: at most one `*` (InvalidActionOrNotAction, Azure's exact message);
 *  - Actions/NotActions must name control-plane operations and DataActions/NotDataActions data operations, checked
 *    against the shipped catalog for providers Keyless ships, accepted as-is for any other provider;
 *  - roles with DataActions cannot have a management group among their assignable scopes;
 *  - a permission-block condition, if any, must compile.
 *
 * Error codes other than InvalidActionOrNotAction are not documented publicly and are Keyless's choice.
 */
import { actionProvider, compileActionPattern, invalidActionOrNotAction, validateCustomRoleAction } from '../core/actions.js';
import { KeylessError } from '../core/errors.js';
import { parseScope } from '../core/scope.js';
import { compileCondition } from './conditions/index.js';
import { isCatalogProvider, providerOperations } from './provider-operations.js';
import type { Permission, RoleDefinition } from './types.js';

const invalidRole = (message: string): KeylessError => new KeylessError(400, 'InvalidRoleDefinition', message);

function coversCatalogOperation(action: string, isDataAction: boolean): boolean {
  const p = compileActionPattern(action);
  return providerOperations().some((o) => o.isDataAction === isDataAction && p.matchesNormalized(o.key));
}

/**
 * One action list of a permission block (custom roles and deny assignments share the rules); `invalid` builds
 * the error for a list that is not an array of strings.
 */
export function validateActionList(list: unknown, field: keyof Permission, isDataAction: boolean, invalid: (message: string) => KeylessError = (m) => invalidRole(`The role definition property ${m}`)): string[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw invalid(`'${field}' must be an array of strings.`);
  const out: string[] = [];
  for (const a of list) {
    if (typeof a !== 'string') throw invalidActionOrNotAction(`'${String(a)}' is not a valid action. Actions must be strings.`);
    validateCustomRoleAction(a);
    const provider = actionProvider(a);
    if (provider !== undefined && isCatalogProvider(provider) && !coversCatalogOperation(a, isDataAction)) {
      const code = isDataAction ? 'InvalidDataActionOrNotDataAction' : 'InvalidActionOrNotAction';
      const hint = coversCatalogOperation(a, !isDataAction)
        ? isDataAction
          ? ' It is a control-plane operation; put it in Actions.'
          : ' It is a data operation; put it in DataActions.'
        : '';
      throw new KeylessError(400, code, `'${a}' does not match any of the ${isDataAction ? 'data actions' : 'actions'} supported by the providers.${hint}`);
    }
    out.push(a);
  }
  return out;
}

export interface CustomRoleInput {
  roleName?: unknown;
  description?: unknown;
  assignableScopes?: unknown;
  permissions?: unknown;
}

/**
 * Validates the `properties` of a custom role PUT and returns the normalized permissions and scopes.
 * Throws KeylessError 400 on the first problem.
 */
export function validateCustomRole(input: CustomRoleInput): Pick<RoleDefinition, 'roleName' | 'description' | 'assignableScopes' | 'permissions'> {
  if (typeof input.roleName !== 'string' || input.roleName.trim() === '') throw invalidRole('The role definition must have a roleName.');
  const scopes = input.assignableScopes;
  if (!Array.isArray(scopes) || scopes.length === 0) throw invalidRole('The role definition must have at least one assignable scope.');
  const assignableScopes: string[] = [];
  let hasManagementGroup = false;
  for (const s of scopes) {
    if (typeof s !== 'string') throw invalidRole('Assignable scopes must be strings.');
    if (s.includes('*')) throw invalidRole(`The assignable scope '${s}' is invalid: assignable scopes cannot contain wildcards.`);
    const parsed = parseScope(s, { propertyPath: 'properties.assignableScopes' });
    if (parsed.level === 'root') throw invalidRole("The assignable scope '/' is reserved for built-in roles.");
    if (parsed.level === 'managementGroup') hasManagementGroup = true;
    assignableScopes.push(parsed.id);
  }
  if (!Array.isArray(input.permissions)) throw invalidRole("The role definition property 'permissions' must be an array.");
  const permissions: Permission[] = (input.permissions as unknown[]).map((raw) => {
    if (typeof raw !== 'object' || raw === null) throw invalidRole('Each permission must be an object.');
    const p = raw as Record<string, unknown>;
    const perm: Permission = {
      actions: validateActionList(p['actions'], 'actions', false),
      notActions: validateActionList(p['notActions'], 'notActions', false),
      dataActions: validateActionList(p['dataActions'], 'dataActions', true),
      notDataActions: validateActionList(p['notDataActions'], 'notDataActions', true),
    };
    if (typeof p['condition'] === 'string' && p['condition'].trim() !== '') {
      const version = typeof p['conditionVersion'] === 'string' ? p['conditionVersion'] : '2.0';
      compileCondition(p['condition'], version);
      perm.condition = p['condition'];
      perm.conditionVersion = version;
    }
    return perm;
  });
  if (hasManagementGroup && permissions.some((p) => p.dataActions.length > 0)) {
    throw invalidRole('Custom roles with DataActions cannot have a management group as an assignable scope.');
  }
  return {
    roleName: input.roleName.trim(),
    description: typeof input.description === 'string' ? input.description : '',
    assignableScopes,
    permissions,
  };
}
