import YAML from 'yaml';

/**
 * A declarative environment, as a CI fixture would write it:
 *
 *   location: westeurope
 *   resourceGroups:
 *     app-rg:
 *       userAssignedIdentities:
 *         app-id: {}
 *       virtualMachines:
 *         vm1:
 *           identity: { systemAssigned: true, userAssigned: [app-id] }
 */
export interface EnvironmentSpec {
  location: string;
  resourceGroups: GroupSpec[];
}

export interface GroupSpec {
  name: string;
  location: string;
  tags: Record<string, string> | undefined;
  userAssignedIdentities: { name: string; location: string; tags: Record<string, string> | undefined }[];
  virtualMachines: { name: string; location: string; systemAssigned: boolean; userAssigned: string[]; tags: Record<string, string> | undefined }[];
}

export class SpecError extends Error {
  override name = 'SpecError';
}

export function parseEnvironment(text: string, source = 'environment'): EnvironmentSpec {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new SpecError(`${source}: not valid YAML: ${(e as Error).message}`);
  }
  const root = obj(doc ?? {}, source);
  known(root, ['location', 'resourceGroups'], source);
  const location = str(root['location'] ?? 'eastus', `${source}.location`);
  const groups = obj(root['resourceGroups'] ?? {}, `${source}.resourceGroups`);
  return {
    location,
    resourceGroups: Object.entries(groups).map(([name, raw]) => {
      const at = `${source}.resourceGroups.${name}`;
      const g = obj(raw ?? {}, at);
      known(g, ['location', 'tags', 'userAssignedIdentities', 'virtualMachines'], at);
      const gLocation = str(g['location'] ?? location, `${at}.location`);
      const identities = obj(g['userAssignedIdentities'] ?? {}, `${at}.userAssignedIdentities`);
      const vms = obj(g['virtualMachines'] ?? {}, `${at}.virtualMachines`);
      return {
        name,
        location: gLocation,
        tags: tags(g['tags'], `${at}.tags`),
        userAssignedIdentities: Object.entries(identities).map(([n, r]) => {
          const i = obj(r ?? {}, `${at}.userAssignedIdentities.${n}`);
          known(i, ['location', 'tags'], `${at}.userAssignedIdentities.${n}`);
          return { name: n, location: str(i['location'] ?? gLocation, `${at}.userAssignedIdentities.${n}.location`), tags: tags(i['tags'], `${at}.userAssignedIdentities.${n}.tags`) };
        }),
        virtualMachines: Object.entries(vms).map(([n, r]) => {
          const vat = `${at}.virtualMachines.${n}`;
          const v = obj(r ?? {}, vat);
          known(v, ['location', 'tags', 'identity'], vat);
          const idn = obj(v['identity'] ?? {}, `${vat}.identity`);
          known(idn, ['systemAssigned', 'userAssigned'], `${vat}.identity`);
          const user = idn['userAssigned'] ?? [];
          if (!Array.isArray(user) || user.some((u) => typeof u !== 'string')) throw new SpecError(`${vat}.identity.userAssigned must be a list of identity names or resource ids`);
          const sys = idn['systemAssigned'] ?? false;
          if (typeof sys !== 'boolean') throw new SpecError(`${vat}.identity.systemAssigned must be true or false`);
          return { name: n, location: str(v['location'] ?? gLocation, `${vat}.location`), systemAssigned: sys, userAssigned: user as string[], tags: tags(v['tags'], `${vat}.tags`) };
        }),
      };
    }),
  };
}

function obj(v: unknown, at: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SpecError(`${at} must be a mapping`);
  return v as Record<string, unknown>;
}
function str(v: unknown, at: string): string {
  if (typeof v !== 'string' || v.trim() === '') throw new SpecError(`${at} must be a non-empty string`);
  return v;
}
function tags(v: unknown, at: string): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  const o = obj(v, at);
  for (const [k, x] of Object.entries(o)) if (typeof x !== 'string') throw new SpecError(`${at}.${k} must be a string`);
  return o as Record<string, string>;
}
function known(o: Record<string, unknown>, keys: string[], at: string): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw new SpecError(`${at}: unknown key '${k}' (expected one of: ${keys.join(', ')})`);
}
