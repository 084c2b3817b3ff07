import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BuiltinPermission {
  condition?: string | null;
  conditionVersion?: string | null;
}
export interface BuiltinRole {
  name: string;
  roleName: string;
  permissions: BuiltinPermission[];
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

// The data file lives in the repo's data/ once vendored, otherwise next to the checkout in shared/data.
const CANDIDATES = [
  process.env.KEYLESS_BUILTIN_ROLES,
  resolve(repoRoot, 'data/builtin-roles.json'),
  resolve(repoRoot, '../shared/data/builtin-roles.json'),
].filter((p): p is string => typeof p === 'string' && p !== '');

export function loadBuiltinRoles(): BuiltinRole[] {
  const path = CANDIDATES.find((p) => existsSync(p));
  if (path === undefined) throw new Error(`builtin-roles.json not found; looked in ${CANDIDATES.join(', ')}`);
  return JSON.parse(readFileSync(path, 'utf8')) as BuiltinRole[];
}

export interface BuiltinCondition {
  roleName: string;
  roleId: string;
  condition: string;
  conditionVersion: string | null | undefined;
}

export function builtinConditions(roles: BuiltinRole[] = loadBuiltinRoles()): BuiltinCondition[] {
  return roles.flatMap((r) =>
    r.permissions
      .filter((p): p is BuiltinPermission & { condition: string } => typeof p.condition === 'string' && p.condition !== '')
      .map((p) => ({ roleName: r.roleName, roleId: r.name, condition: p.condition, conditionVersion: p.conditionVersion })),
  );
}
