/**
 * Deny assignments as an administrator writes them (authorization.md §1.1, §1.6). Azure users cannot create
 * them through ARM — Azure's own services do (managed applications, Blueprints, deployment stacks) — so Keyless
 * takes them from its ops API, CLI and in-process API, all validated here.
 *
 * Rules: at least one principal; the "All principals" id 00000000-… is `SystemDefined` and may appear only in
 * `principals` (typically with `excludePrincipals`); every block denies at least one action or data action;
 * action strings follow the custom-role rules. Error code `InvalidDenyAssignment` is Keyless's choice.
 */
import { KeylessError } from '../core/errors.js';
import { isGuid, newGuid } from '../core/ids.js';
import { parseScope } from '../core/scope.js';
import { validateActionList } from './custom-roles.js';
import { ALL_PRINCIPALS_ID, type DenyAssignment, type DenyPermission, type DenyPrincipal } from './types.js';

/** A principal as given: an object id, `everyone`, or `{ id, type }`. */
export type DenyPrincipalInput = string | { id: string; type?: string };

export interface DenyAssignmentInput {
  scope: string;
  /** GUID; generated when absent. */
  name?: string;
  denyAssignmentName?: string;
  description?: string;
  /** Azure's form; or give one block's lists directly (actions, notActions, dataActions, notDataActions). */
  permissions?: Partial<DenyPermission>[];
  actions?: string[];
  notActions?: string[];
  dataActions?: string[];
  notDataActions?: string[];
  principals: DenyPrincipalInput[];
  excludePrincipals?: DenyPrincipalInput[];
  doNotApplyToChildScopes?: boolean;
  isSystemProtected?: boolean;
}

export const DENY_ASSIGNMENT_SEGMENT = '/providers/Microsoft.Authorization/denyAssignments/';
const DEFAULT_DISPLAY_NAME = 'Deny assignment created by Keyless';
const PRINCIPAL_TYPES = ['User', 'Group', 'ServicePrincipal', 'SystemDefined'];
const BLOCK_FIELDS = ['actions', 'notActions', 'dataActions', 'notDataActions'] as const;
const FIELDS = new Set<string>(['scope', 'name', 'denyAssignmentName', 'description', 'permissions', ...BLOCK_FIELDS, 'principals', 'excludePrincipals', 'doNotApplyToChildScopes', 'isSystemProtected']);

export const invalidDenyAssignment = (message: string): KeylessError => new KeylessError(400, 'InvalidDenyAssignment', message);

/** 409 when a deny assignment with this GUID exists and the write did not ask to replace it. */
export const denyAssignmentExists = (name: string): KeylessError =>
  new KeylessError(409, 'DenyAssignmentExists', `A deny assignment with the name '${name}' already exists.`);

export const denyAssignmentNotFound = (name: string): KeylessError =>
  new KeylessError(404, 'DenyAssignmentNotFound', `The deny assignment '${name}' is not found.`);

/** Validates an administrator's deny assignment and returns the stored model (throws InvalidDenyAssignment). */
export function validateDenyAssignment(raw: unknown): DenyAssignment {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalidDenyAssignment('The deny assignment must be a JSON object.');
  const input = raw as Record<string, unknown>;
  const unknown = Object.keys(input).filter((k) => !FIELDS.has(k));
  if (unknown.length > 0) throw invalidDenyAssignment(`Unknown property '${unknown[0]}'; known properties: ${[...FIELDS].join(', ')}.`);

  if (typeof input['scope'] !== 'string') throw invalidDenyAssignment("The property 'scope' is required: '/subscriptions/{id}[/resourceGroups/{name}[/providers/…]]'.");
  const scope = parseScope(input['scope']).id;
  const name = optionalString(input, 'name')?.toLowerCase() ?? newGuid();
  if (!isGuid(name)) throw invalidDenyAssignment(`The deny assignment name '${name}' is not valid: it must be a GUID.`);

  const principals = principalList(input['principals'], 'principals');
  if (principals.length === 0) throw invalidDenyAssignment("The property 'principals' must name at least one principal (or 'everyone').");
  const excludePrincipals = principalList(input['excludePrincipals'] ?? [], 'excludePrincipals');
  if (excludePrincipals.some((p) => p.id === ALL_PRINCIPALS_ID)) throw invalidDenyAssignment(`The all-principals id ${ALL_PRINCIPALS_ID} may appear only in 'principals', not in 'excludePrincipals'.`);

  const doNotApplyToChildScopes = optionalBoolean(input, 'doNotApplyToChildScopes') ?? false;
  const isSystemProtected = optionalBoolean(input, 'isSystemProtected') ?? true;
  const description = optionalString(input, 'description');
  return {
    id: `${scope === '/' ? '' : scope}${DENY_ASSIGNMENT_SEGMENT}${name}`,
    name,
    denyAssignmentName: optionalString(input, 'denyAssignmentName')?.trim() || DEFAULT_DISPLAY_NAME,
    ...(description !== undefined ? { description } : {}),
    permissions: permissionBlocks(input),
    scope,
    doNotApplyToChildScopes,
    principals,
    excludePrincipals,
    isSystemProtected,
  };
}

function permissionBlocks(input: Record<string, unknown>): DenyPermission[] {
  const shorthand = BLOCK_FIELDS.some((f) => input[f] !== undefined);
  if (shorthand && input['permissions'] !== undefined) throw invalidDenyAssignment("Give either 'permissions' or the lists 'actions', 'notActions', 'dataActions', 'notDataActions', not both.");
  const blocks = shorthand ? [input] : input['permissions'];
  if (!Array.isArray(blocks) || blocks.length === 0) throw invalidDenyAssignment("The deny assignment needs 'actions' or 'dataActions' to deny (or a non-empty 'permissions' list).");
  return blocks.map((b: unknown, i) => {
    if (typeof b !== 'object' || b === null || Array.isArray(b)) throw invalidDenyAssignment(`permissions[${i}] must be an object.`);
    const p = b as Record<string, unknown>;
    const at = shorthand ? '' : `permissions[${i}].`;
    const list = (f: (typeof BLOCK_FIELDS)[number], data: boolean) => validateActionList(p[f], f, data, (m) => invalidDenyAssignment(at ? `${at.slice(0, -1)}: ${m}` : `The property ${m}`));
    const block = { actions: list('actions', false), notActions: list('notActions', false), dataActions: list('dataActions', true), notDataActions: list('notDataActions', true) };
    // A block without actions denies nothing: almost certainly a mistake (a NotActions list alone grants nothing either).
    if (block.actions.length === 0 && block.dataActions.length === 0) throw invalidDenyAssignment(`${at || 'The deny assignment'} must deny at least one action or data action.`);
    return block;
  });
}

function principalList(raw: unknown, field: string): DenyPrincipal[] {
  if (!Array.isArray(raw)) throw invalidDenyAssignment(`The property '${field}' must be a list of object ids, 'everyone', or {id, type} objects.`);
  const out: DenyPrincipal[] = [];
  for (const item of raw as unknown[]) {
    const given = typeof item === 'string' ? { id: item } : typeof item === 'object' && item !== null ? (item as Record<string, unknown>) : undefined;
    if (!given || typeof given['id'] !== 'string') throw invalidDenyAssignment(`Each entry of '${field}' must be an object id, 'everyone', or {id, type}.`);
    const id = given['id'].trim().toLowerCase() === 'everyone' ? ALL_PRINCIPALS_ID : given['id'].trim().toLowerCase();
    if (!isGuid(id)) throw invalidDenyAssignment(`'${given['id']}' in '${field}' is not a valid principal id: it must be a GUID (or 'everyone').`);
    const everyone = id === ALL_PRINCIPALS_ID;
    const type = given['type'] === undefined ? (everyone ? 'SystemDefined' : 'ServicePrincipal') : given['type'];
    if (typeof type !== 'string' || !PRINCIPAL_TYPES.includes(type)) throw invalidDenyAssignment(`The principal type '${String(type)}' in '${field}' is not valid. Valid values are ${PRINCIPAL_TYPES.join(', ')}.`);
    if (everyone !== (type === 'SystemDefined')) throw invalidDenyAssignment(`Only the all-principals id ${ALL_PRINCIPALS_ID} has the type 'SystemDefined'.`);
    if (!out.some((p) => p.id === id)) out.push({ id, type });
  }
  return out;
}

function optionalString(input: Record<string, unknown>, field: string): string | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidDenyAssignment(`The property '${field}' must be a string.`);
  return v;
}

function optionalBoolean(input: Record<string, unknown>, field: string): boolean | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalidDenyAssignment(`The property '${field}' must be true or false.`);
  return v;
}

/** ARM's wire shape (GET/list of Microsoft.Authorization/denyAssignments). */
export function renderDenyAssignment(d: DenyAssignment) {
  return {
    id: d.id,
    name: d.name,
    type: 'Microsoft.Authorization/denyAssignments',
    properties: {
      denyAssignmentName: d.denyAssignmentName ?? d.name,
      description: d.description ?? '',
      permissions: d.permissions,
      scope: d.scope,
      doNotApplyToChildScopes: d.doNotApplyToChildScopes,
      principals: d.principals,
      excludePrincipals: d.excludePrincipals,
      isSystemProtected: d.isSystemProtected,
    },
  };
}
