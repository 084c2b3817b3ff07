import { KeylessError } from '../core/errors.js';

/** What a resource's `identity` property asks for, after PUT/PATCH semantics are applied. */
export interface DesiredIdentity {
  system: boolean;
  /** normalized (lower-case) id → id as the client spelled it */
  userAssigned: Map<string, string>;
}

const UAI_ID = /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.managedidentity\/userassignedidentities\/[^/]+$/i;

export function parseIdentityType(raw: unknown): { system: boolean; user: boolean } {
  if (typeof raw !== 'string') throw invalid(`The identity type '${String(raw)}' is invalid.`);
  const parts = raw.split(',').map((p) => p.trim().toLowerCase()).filter(Boolean);
  const known = new Set(['none', 'systemassigned', 'userassigned']);
  if (parts.length === 0 || parts.some((p) => !known.has(p)) || (parts.includes('none') && parts.length > 1)) {
    throw invalid(
      `The identity type '${raw}' is invalid. Allowed values are 'None', 'SystemAssigned', 'UserAssigned' and 'SystemAssigned, UserAssigned'.`,
    );
  }
  return { system: parts.includes('systemassigned'), user: parts.includes('userassigned') };
}

/**
 * ARM's identity semantics: PUT replaces (no identity = None); PATCH merges — an absent `identity` keeps the
 * current one, a type with UserAssigned but no map keeps the attached identities (az relies on this), and
 * map entries set to null detach (JSON merge patch).
 */
export function desiredIdentity(current: DesiredIdentity, requested: unknown, mode: 'put' | 'patch'): DesiredIdentity {
  if (requested === undefined || requested === null) {
    return mode === 'patch' ? clone(current) : { system: false, userAssigned: new Map() };
  }
  if (typeof requested !== 'object' || Array.isArray(requested)) throw invalid("The 'identity' property must be an object.");
  const req = requested as { type?: unknown; userAssignedIdentities?: unknown };
  const type = parseIdentityType(req.type);
  const map = req.userAssignedIdentities;
  if (map !== undefined && map !== null && (typeof map !== 'object' || Array.isArray(map))) {
    throw invalid("The 'userAssignedIdentities' property must be an object whose keys are identity resource ids.");
  }
  const entries = Object.entries((map ?? {}) as Record<string, unknown>);
  if (!type.user && entries.some(([, v]) => v !== null)) {
    throw invalid("The 'userAssignedIdentities' property keys should only be specified when the identity type includes 'UserAssigned'.");
  }
  let user = new Map<string, string>();
  if (type.user) {
    user = mode === 'patch' || map === undefined || map === null ? new Map(current.userAssigned) : new Map();
    for (const [id, v] of entries) {
      if (!UAI_ID.test(id)) {
        throw invalid(`Invalid user assigned identity resource id '${id}'. It must be of the form '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}'.`);
      }
      if (v === null) user.delete(id.toLowerCase());
      else if (typeof v === 'object' && !Array.isArray(v)) user.set(id.toLowerCase(), id);
      else throw invalid(`The value for user assigned identity '${id}' must be an empty object or null.`);
    }
    if (user.size === 0 && mode === 'put') {
      throw invalid("The 'userAssignedIdentities' property keys should not be empty when the identity type includes 'UserAssigned'.");
    }
  }
  return { system: type.system, userAssigned: user };
}

export function identityTypeString(d: DesiredIdentity): string {
  const user = d.userAssigned.size > 0;
  if (d.system && user) return 'SystemAssigned, UserAssigned';
  if (d.system) return 'SystemAssigned';
  if (user) return 'UserAssigned';
  return 'None';
}

function clone(d: DesiredIdentity): DesiredIdentity {
  return { system: d.system, userAssigned: new Map(d.userAssigned) };
}

function invalid(message: string): KeylessError {
  return new KeylessError(400, 'InvalidIdentityValues', message);
}
