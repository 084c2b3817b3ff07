/**
 * Azure's built-in role definitions, vendored in data/builtin-roles.json (see data/README.md for the source).
 * Loaded once, on first use, so importing the engine costs nothing until a decision needs a role.
 */
import { readFileSync } from 'node:fs';
import type { Permission, RoleDefinition } from './types.js';

const DATA_URL = new URL('../../data/builtin-roles.json', import.meta.url);

interface BuiltinRoleTable {
  readonly all: readonly RoleDefinition[];
  readonly byGuid: ReadonlyMap<string, RoleDefinition>;
  readonly byName: ReadonlyMap<string, RoleDefinition>;
}

let table: BuiltinRoleTable | undefined;

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function toRole(raw: Record<string, unknown>): RoleDefinition {
  const perms = Array.isArray(raw['permissions']) ? (raw['permissions'] as Record<string, unknown>[]) : [];
  const permissions: Permission[] = perms.map((p) => {
    const out: Permission = {
      actions: strings(p['actions']),
      notActions: strings(p['notActions']),
      dataActions: strings(p['dataActions']),
      notDataActions: strings(p['notDataActions']),
    };
    if (typeof p['condition'] === 'string') {
      out.condition = p['condition'];
      out.conditionVersion = typeof p['conditionVersion'] === 'string' ? p['conditionVersion'] : '2.0';
    }
    return out;
  });
  const role: RoleDefinition = {
    id: String(raw['id']),
    name: String(raw['name']).toLowerCase(),
    roleName: String(raw['roleName']),
    roleType: 'BuiltInRole',
    description: typeof raw['description'] === 'string' ? raw['description'] : '',
    assignableScopes: strings(raw['assignableScopes']),
    permissions,
  };
  if (typeof raw['createdOn'] === 'string') role.createdOn = raw['createdOn'];
  if (typeof raw['updatedOn'] === 'string') role.updatedOn = raw['updatedOn'];
  return role;
}

function load(): BuiltinRoleTable {
  if (table === undefined) {
    const raw = JSON.parse(readFileSync(DATA_URL, 'utf8')) as Record<string, unknown>[];
    const all = raw.map(toRole);
    // Deep-freeze: these objects are shared by every index and every decision.
    for (const r of all) {
      for (const p of r.permissions) Object.freeze(p);
      Object.freeze(r.permissions);
      Object.freeze(r.assignableScopes);
      Object.freeze(r);
    }
    table = {
      all,
      byGuid: new Map(all.map((r) => [r.name, r])),
      byName: new Map(all.map((r) => [r.roleName.toLowerCase(), r])),
    };
  }
  return table;
}

export const BUILTIN_ROLE_DEFINITION_PREFIX = '/providers/Microsoft.Authorization/roleDefinitions/';

/** The trailing GUID of a role definition id (any prefix), lower-cased; a bare GUID passes through. */
export function roleDefinitionGuid(roleDefinitionId: string): string {
  const trimmed = roleDefinitionId.trim().replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1).toLowerCase();
}

export const builtinRoles = (): readonly RoleDefinition[] => load().all;

/** By GUID or by any role definition id ending in the GUID. */
export const builtinRoleById = (idOrGuid: string): RoleDefinition | undefined => load().byGuid.get(roleDefinitionGuid(idOrGuid));

/** By roleName, case-insensitive ("key vault secrets user"). */
export const builtinRoleByName = (roleName: string): RoleDefinition | undefined => load().byName.get(roleName.trim().toLowerCase());

export const isBuiltinRoleGuid = (idOrGuid: string): boolean => load().byGuid.has(roleDefinitionGuid(idOrGuid));
