/**
 * ARM scopes and resource ids (authorization.md §2).
 *
 * A scope is parsed left to right into "steps"; every step boundary is itself a valid scope, and those
 * boundaries are exactly the scope's ancestors. ARM compares ids case-insensitively but echoes the caller's
 * casing, so a parsed scope keeps both: `id` (as given, for display) and `key` (lower-case, for comparisons
 * and map keys).
 *
 * Management groups are not visible in a subscription's id; the chain subscription → management groups is
 * supplied by whoever knows the hierarchy (the authorization index), not by this module.
 */
import { KeylessError } from './errors.js';

export type ScopeLevel = 'root' | 'managementGroup' | 'subscription' | 'resourceGroup' | 'resource';

export const ROOT_SCOPE = '/';

/** Characters that can never be part of an id segment (they would have been split off the URL or are unsafe in messages). */
// eslint-disable-next-line no-control-regex -- rejecting control characters is the point
const BAD_SEGMENT = /[\u0000-\u001f\u007f?#\\]/;

export class Scope {
  /** The id as the caller wrote it (trailing slash removed). */
  readonly id: string;
  /** Lower-case canonical form: use for equality, map keys and prefix tests. */
  readonly key: string;
  readonly level: ScopeLevel;
  readonly segments: readonly string[];
  /** Segment counts at which an ancestor scope ends, ascending; always starts with 0 (the root) and ends with `segments.length`. */
  readonly boundaries: readonly number[];
  readonly managementGroupId: string | undefined;
  readonly subscriptionId: string | undefined;
  readonly resourceGroup: string | undefined;
  /** Full type of the last resource step, e.g. `Microsoft.Storage/storageAccounts/blobServices/containers`. */
  readonly resourceType: string | undefined;
  readonly resourceName: string | undefined;
  /** True when the last resource is an extension resource (`{scope}/providers/…` below another scope than an RG). */
  readonly isExtension: boolean;
  private ancestorCache: readonly Scope[] | undefined;

  /** @internal use parseScope(); the constructor trusts its inputs. */
  constructor(init: {
    segments: string[];
    boundaries: number[];
    level: ScopeLevel;
    managementGroupId?: string | undefined;
    subscriptionId?: string | undefined;
    resourceGroup?: string | undefined;
    resourceType?: string | undefined;
    resourceName?: string | undefined;
    isExtension?: boolean;
  }) {
    this.segments = init.segments;
    this.boundaries = init.boundaries;
    this.id = init.segments.length === 0 ? ROOT_SCOPE : '/' + init.segments.join('/');
    this.key = this.id.toLowerCase();
    this.level = init.level;
    this.managementGroupId = init.managementGroupId;
    this.subscriptionId = init.subscriptionId;
    this.resourceGroup = init.resourceGroup;
    this.resourceType = init.resourceType;
    this.resourceName = init.resourceName;
    this.isExtension = init.isExtension ?? false;
  }

  /** The nearest enclosing scope (undefined for the root). Management groups are not inferred. */
  get parent(): Scope | undefined {
    return this.ancestors()[1];
  }

  /** This scope, then each enclosing scope up to `/` (narrowest first). */
  ancestors(): readonly Scope[] {
    if (this.ancestorCache === undefined) {
      const out: Scope[] = [this];
      for (let i = this.boundaries.length - 2; i >= 0; i--) {
        out.push(parseScope('/' + this.segments.slice(0, this.boundaries[i]).join('/')));
      }
      this.ancestorCache = out;
    }
    return this.ancestorCache;
  }

  /** Lower-case keys of `ancestors()`, narrowest first. */
  ancestorKeys(): string[] {
    return this.ancestors().map((s) => s.key);
  }

  toString(): string {
    return this.id;
  }
}

export interface ParseScopeOptions {
  /**
   * When the id came from a request body property (e.g. `properties.scope`, a `userAssignedIdentities` key),
   * Azure reports `LinkedInvalidPropertyId` naming the property; without it the error is `InvalidScope`.
   */
  propertyPath?: string;
}

function invalid(input: string, reason: string, opts: ParseScopeOptions | undefined): KeylessError {
  if (opts?.propertyPath !== undefined) {
    return new KeylessError(
      400,
      'LinkedInvalidPropertyId',
      `Property id '${input}' at path '${opts.propertyPath}' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{subscriptionId}' or '/providers/{resourceProviderNamespace}/'.`,
      { detail: reason },
    );
  }
  return new KeylessError(
    400,
    'InvalidScope',
    `The scope '${input}' is not valid. Expected '/', '/providers/Microsoft.Management/managementGroups/{groupId}', '/subscriptions/{subscriptionId}', '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}' or a resource id below them.`,
    { detail: reason },
  );
}

const eq = (a: string | undefined, b: string): boolean => a !== undefined && a.toLowerCase() === b;

/**
 * Parses a scope or resource id. Accepts one trailing slash; rejects empty segments, dangling keywords and
 * incomplete type/name pairs. Throws KeylessError 400 (`InvalidScope`, or `LinkedInvalidPropertyId` with
 * `propertyPath`).
 */
export function parseScope(input: string, opts?: ParseScopeOptions): Scope {
  if (typeof input !== 'string' || input.length === 0) throw invalid(String(input), 'empty scope', opts);
  if (input[0] !== '/') throw invalid(input, 'a scope must start with /', opts);
  if (input === ROOT_SCOPE) return new Scope({ segments: [], boundaries: [0], level: 'root' });
  const body = input.endsWith('/') ? input.slice(1, -1) : input.slice(1);
  if (body.length === 0) throw invalid(input, 'empty path segment', opts);
  const seg = body.split('/');
  for (const s of seg) {
    if (s.length === 0) throw invalid(input, 'empty path segment', opts);
    if (BAD_SEGMENT.test(s) || s.trim() !== s) throw invalid(input, `invalid characters in segment '${s}'`, opts);
  }

  const boundaries = [0];
  let level: ScopeLevel = 'root';
  let managementGroupId: string | undefined;
  let subscriptionId: string | undefined;
  let resourceGroup: string | undefined;
  let resourceType: string | undefined;
  let resourceName: string | undefined;
  let isExtension = false;
  let pos = 0;

  if (eq(seg[0], 'subscriptions')) {
    subscriptionId = seg[1];
    if (subscriptionId === undefined) throw invalid(input, 'missing subscription id', opts);
    pos = 2;
    boundaries.push(pos);
    level = 'subscription';
    if (eq(seg[2], 'resourcegroups')) {
      resourceGroup = seg[3];
      if (resourceGroup === undefined) throw invalid(input, 'missing resource group name', opts);
      pos = 4;
      boundaries.push(pos);
      level = 'resourceGroup';
    }
  }

  while (pos < seg.length) {
    if (!eq(seg[pos], 'providers')) throw invalid(input, `expected 'providers' at segment ${pos + 1}, found '${seg[pos]}'`, opts);
    const ns = seg[pos + 1];
    const type = seg[pos + 2];
    const name = seg[pos + 3];
    if (ns === undefined || type === undefined || name === undefined) {
      throw invalid(input, "'providers' must be followed by {namespace}/{type}/{name}", opts);
    }
    // Anything reached through /providers/ that is not directly below a resource group extends another scope.
    const extendsScope = level !== 'resourceGroup';
    const types = [type];
    pos += 4;
    boundaries.push(pos);
    let last = name;
    while (pos < seg.length && !eq(seg[pos], 'providers')) {
      const childType = seg[pos]!;
      const childName = seg[pos + 1];
      if (childName === undefined) throw invalid(input, `child type '${childType}' has no name`, opts);
      types.push(childType);
      last = childName;
      pos += 2;
      boundaries.push(pos);
    }
    if (level === 'root' && types.length === 1 && ns.toLowerCase() === 'microsoft.management' && type.toLowerCase() === 'managementgroups') {
      level = 'managementGroup';
      managementGroupId = name;
      continue;
    }
    level = 'resource';
    isExtension = extendsScope;
    resourceType = `${ns}/${types.join('/')}`;
    resourceName = last;
  }

  if (level === 'subscription') resourceType = 'Microsoft.Resources/subscriptions';
  else if (level === 'resourceGroup') resourceType = 'Microsoft.Resources/resourceGroups';
  else if (level === 'managementGroup') resourceType = 'Microsoft.Management/managementGroups';
  if (level === 'subscription') resourceName = subscriptionId;
  else if (level === 'resourceGroup') resourceName = resourceGroup;
  else if (level === 'managementGroup') resourceName = managementGroupId;

  return new Scope({
    segments: seg,
    boundaries,
    level,
    managementGroupId,
    subscriptionId,
    resourceGroup,
    resourceType,
    resourceName,
    isExtension,
  });
}

/** parseScope without throwing. */
export function tryParseScope(input: string): Scope | undefined {
  try {
    return parseScope(input);
  } catch {
    return undefined;
  }
}

export const isValidScope = (input: string): boolean => tryParseScope(input) !== undefined;

/** The display form (caller's casing, no trailing slash). */
export const formatScope = (s: Scope): string => s.id;

/** Canonical comparison key of a scope string (validates it). */
export const scopeKey = (input: string | Scope): string => (typeof input === 'string' ? parseScope(input).key : input.key);

/** Case-insensitive scope equality; invalid inputs are never equal. */
export function sameScope(a: string | Scope, b: string | Scope): boolean {
  const ka = typeof a === 'string' ? tryParseScope(a)?.key : a.key;
  const kb = typeof b === 'string' ? tryParseScope(b)?.key : b.key;
  return ka !== undefined && ka === kb;
}

/**
 * True when `ancestor` encloses `scope` or equals it (syntactically: management-group membership of a
 * subscription is not visible in ids). A prefix that parses is always a step boundary, because parsing is a
 * deterministic left-to-right walk and validity means "ends on a boundary".
 */
export function isAncestorOrSelf(ancestor: string | Scope, scope: string | Scope): boolean {
  const a = typeof ancestor === 'string' ? parseScope(ancestor) : ancestor;
  const s = typeof scope === 'string' ? parseScope(scope) : scope;
  if (a.level === 'root') return true;
  return s.key === a.key || s.key.startsWith(a.key + '/');
}

/** Ancestors of a scope as display ids, narrowest first (self … `/`). */
export const ancestorIds = (scope: string | Scope): string[] =>
  (typeof scope === 'string' ? parseScope(scope) : scope).ancestors().map((s) => s.id);

/** `Microsoft.Compute/virtualMachines`-style type of the id (or of the subscription / RG / MG itself). */
export const resourceTypeOf = (scope: string | Scope): string | undefined =>
  (typeof scope === 'string' ? parseScope(scope) : scope).resourceType;

export const subscriptionIdOf = (scope: string | Scope): string | undefined =>
  (typeof scope === 'string' ? parseScope(scope) : scope).subscriptionId;

export const resourceGroupOf = (scope: string | Scope): string | undefined =>
  (typeof scope === 'string' ? parseScope(scope) : scope).resourceGroup;

export const subscriptionScope = (subscriptionId: string): string => `/subscriptions/${subscriptionId}`;
export const resourceGroupScope = (subscriptionId: string, resourceGroup: string): string =>
  `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}`;
export const managementGroupScope = (groupId: string): string => `/providers/Microsoft.Management/managementGroups/${groupId}`;

/** `{scope}/providers/{namespace}/{type}/{name}` — how extension resources (role assignments …) get their ids. */
export function extensionResourceId(scope: string, namespace: string, type: string, name: string): string {
  const base = scope === ROOT_SCOPE ? '' : scope.replace(/\/$/, '');
  return `${base}/providers/${namespace}/${type}/${name}`;
}

/**
 * Splits an extension-resource id at its last `/providers/{ns}/{type}/{name}` step, e.g. a role assignment id
 * into its scope and name. Returns undefined when the id does not end with an extension of that type.
 */
export function splitExtensionId(id: string, namespace: string, type: string): { scope: string; name: string } | undefined {
  const parsed = tryParseScope(id);
  if (parsed === undefined || parsed.level !== 'resource') return undefined;
  const n = parsed.segments.length;
  if (n < 4) return undefined;
  const [p, ns, t, name] = parsed.segments.slice(n - 4);
  if (!eq(p, 'providers') || !eq(ns, namespace.toLowerCase()) || !eq(t, type.toLowerCase()) || name === undefined) return undefined;
  const scopeSegs = parsed.segments.slice(0, n - 4);
  return { scope: scopeSegs.length === 0 ? ROOT_SCOPE : '/' + scopeSegs.join('/'), name };
}
