/**
 * Where an ARM URL points. Everything ARM serves is either a collection, a resource, or a POST action on a
 * resource, at some scope; extension resources (`{scope}/providers/Microsoft.Authorization/…`) carry the
 * scope they are attached to.
 */
export type ArmRoute =
  | { kind: 'metadataEndpoints' }
  | { kind: 'tenants' }
  | { kind: 'subscriptions' }
  | { kind: 'subscription'; subscriptionId: string }
  | { kind: 'groups'; subscriptionId: string }
  | { kind: 'group'; subscriptionId: string; group: string; id: string }
  | { kind: 'genericResources'; subscriptionId: string; group?: string }
  | { kind: 'providers'; subscriptionId: string }
  /** `{scope}/providers/{ns}/{type}[/{name}/{childType}…]` — a collection when `name` is absent. */
  | {
      kind: 'resource';
      scope: string;
      subscriptionId: string | undefined;
      group: string | undefined;
      namespace: string;
      /** full type incl. namespace: Microsoft.Compute/virtualMachines[/extensions] */
      type: string;
      name: string | undefined;
      /** id of the resource (or of the collection's parent scope + type when a list) */
      id: string;
      /** trailing action segment on a POST, e.g. listKeys */
      action: string | undefined;
    };

export function parseArmPath(rawPath: string, method: string): ArmRoute | undefined {
  // Tolerate `//metadata/…` (az concatenates a trailing-slash endpoint) and a trailing slash.
  const path = rawPath.replace(/\/{2,}/g, '/').replace(/\/$/, '');
  const seg = path.split('/').slice(1).map(decodeSegment);
  if (seg.some((s) => s === undefined)) return undefined;
  const s = seg as string[];
  const lower = s.map((x) => x.toLowerCase());
  if (lower[0] === 'metadata' && lower[1] === 'endpoints' && s.length === 2) return { kind: 'metadataEndpoints' };
  if (lower[0] === 'tenants' && s.length === 1) return { kind: 'tenants' };
  if (lower[0] === 'subscriptions' && s.length === 1) return { kind: 'subscriptions' };

  // Find the last `/providers/` that introduces a resource type (extension resources nest scopes).
  let i = lower.lastIndexOf('providers');
  // `/subscriptions/{s}/providers` alone lists resource providers.
  if (i === s.length - 1) {
    if (lower[0] === 'subscriptions' && s.length === 3) return { kind: 'providers', subscriptionId: s[1]! };
    return undefined;
  }
  if (i < 0) {
    if (lower[0] !== 'subscriptions' || !s[1]) return undefined;
    const subscriptionId = s[1];
    if (s.length === 2) return { kind: 'subscription', subscriptionId };
    if (lower[2] === 'resourcegroups' && s.length === 3) return { kind: 'groups', subscriptionId };
    if (lower[2] === 'resources' && s.length === 3) return { kind: 'genericResources', subscriptionId };
    if (lower[2] === 'resourcegroups' && s[3] && s.length === 4)
      return { kind: 'group', subscriptionId, group: s[3], id: `/subscriptions/${subscriptionId}/resourceGroups/${s[3]}` };
    if (lower[2] === 'resourcegroups' && s[3] && lower[4] === 'resources' && s.length === 5)
      return { kind: 'genericResources', subscriptionId, group: s[3] };
    return undefined;
  }
  // A provider segment inside a resource id whose preceding segment is a type name would be odd; ARM
  // namespaces always contain a dot, which also distinguishes `providers` used as a resource name.
  // lastIndexOf(x, -1) would search from the end again: stop explicitly at the first segment.
  while (i >= 0 && !(s[i + 1] ?? '').includes('.')) i = i > 0 ? lower.lastIndexOf('providers', i - 1) : -1;
  if (i < 0) return undefined;
  const scope = i === 0 ? '/' : '/' + s.slice(0, i).join('/');
  const scopeLower = scope.toLowerCase().split('/');
  const subscriptionId = scopeLower[1] === 'subscriptions' ? s[1] : undefined;
  const group = scopeLower[3] === 'resourcegroups' ? s[3] : undefined;
  const namespace = s[i + 1]!;
  const rest = s.slice(i + 2);
  if (rest.length === 0) return undefined;
  // rest alternates type/name; an odd count is a collection (GET) or an action (POST) after a name.
  let action: string | undefined;
  let parts = rest;
  if (method === 'POST' && rest.length % 2 === 1 && rest.length >= 3) {
    action = rest[rest.length - 1];
    parts = rest.slice(0, -1);
  }
  const types: string[] = [];
  const names: string[] = [];
  parts.forEach((p, idx) => (idx % 2 === 0 ? types : names).push(p));
  const type = `${namespace}/${types.join('/')}`;
  const name = names.length === types.length ? names[names.length - 1] : undefined;
  const base = scope === '/' ? '' : scope;
  const id = `${base}/providers/${namespace}/${parts.join('/')}`;
  return { kind: 'resource', scope, subscriptionId, group, namespace, type, name, id, action };
}

function decodeSegment(x: string): string | undefined {
  try {
    return decodeURIComponent(x);
  } catch {
    return undefined;
  }
}
