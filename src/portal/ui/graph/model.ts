/**
 * Who reaches what: role assignments turned into a four-column graph — identities → roles (one node per
 * role at a scope, so a path never suggests a grant it does not have) → scopes → resources inside them.
 * Pure: fed with what the portal read from ARM (as the signed-in principal), unit-tested in Node.
 */

export interface GraphAssignment {
  principalId: string;
  principalType: string;
  roleDefinitionId: string;
  scope: string;
}

export interface GraphResource {
  id: string;
  name: string;
  type: string;
}

export interface GraphNode {
  id: string;
  column: 0 | 1 | 2 | 3;
  label: string;
  sublabel: string;
  kind: 'identity' | 'role' | 'scope' | 'resource' | 'more';
  /** What a click opens: a resource id, or a principal id for identities. */
  target?: string;
}

export interface GraphEdge {
  from: string;
  to: string;
}

export interface AccessGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export const COLUMN_TITLES = ['Identities', 'Roles', 'Scopes', 'Resources'] as const;

export interface GraphInput {
  assignments: GraphAssignment[];
  roleName(roleDefinitionId: string): string;
  principalName(principalId: string): { label: string; sublabel: string };
  /** Resource groups and resources the principal can read (each id once). */
  resources: GraphResource[];
  subscriptionName(subscriptionId: string): string;
  /** Only paths from this principal (lower-case object id). */
  onlyPrincipal?: string | undefined;
  /** At most this many resource nodes under one scope; the rest fold into "+N more". */
  maxResourcesPerScope?: number;
}

export function buildAccessGraph(input: GraphInput): AccessGraph {
  const max = input.maxResourcesPerScope ?? 12;
  const nodes = new Map<string, GraphNode>();
  const edges = new Map<string, GraphEdge>();
  const add = (n: GraphNode) => (nodes.has(n.id) ? undefined : nodes.set(n.id, n));
  const link = (from: string, to: string) => edges.set(`${from}→${to}`, { from, to });
  const leaves = input.resources.filter((r) => !isGroup(r.id));
  const assignments = input.assignments.filter((a) => !input.onlyPrincipal || a.principalId.toLowerCase() === input.onlyPrincipal);

  for (const a of assignments) {
    const pid = a.principalId.toLowerCase();
    const scopeKey = a.scope.toLowerCase();
    const roleGuid = guidOf(a.roleDefinitionId);
    const who = input.principalName(pid);
    add({ id: `p:${pid}`, column: 0, kind: 'identity', label: who.label, sublabel: who.sublabel, target: pid });
    add({ id: `r:${roleGuid}@${scopeKey}`, column: 1, kind: 'role', label: input.roleName(a.roleDefinitionId), sublabel: `at ${scopeLabel(a.scope, input).label}` });
    const sl = scopeLabel(a.scope, input);
    add({ id: `s:${scopeKey}`, column: 2, kind: 'scope', label: sl.label, sublabel: sl.kind, target: a.scope });
    link(`p:${pid}`, `r:${roleGuid}@${scopeKey}`);
    link(`r:${roleGuid}@${scopeKey}`, `s:${scopeKey}`);
  }

  for (const scope of [...nodes.values()].filter((n) => n.kind === 'scope')) {
    const key = scope.id.slice(2);
    const inside = leaves.filter((r) => within(r.id.toLowerCase(), key));
    for (const r of inside.slice(0, max)) {
      add({ id: `x:${r.id.toLowerCase()}`, column: 3, kind: 'resource', label: r.name, sublabel: shortType(r.type), target: r.id });
      link(scope.id, `x:${r.id.toLowerCase()}`);
    }
    if (inside.length > max) {
      const id = `m:${key}`;
      add({ id, column: 3, kind: 'more', label: `+${inside.length - max} more`, sublabel: `in ${scope.label}` });
      link(scope.id, id);
    }
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}

/** `…/roleDefinitions/{guid}` → guid (lower case). */
export function guidOf(roleDefinitionId: string): string {
  return (roleDefinitionId.split('/').pop() ?? roleDefinitionId).toLowerCase();
}

/** Is `id` the scope itself or below it (`/subscriptions/a` contains `/subscriptions/a/resourceGroups/b`)? */
export function within(id: string, scope: string): boolean {
  const a = id.toLowerCase().replace(/\/+$/, '');
  const s = scope.toLowerCase().replace(/\/+$/, '');
  return s === '' || s === '/' || a === s || a.startsWith(s + '/');
}

function isGroup(id: string): boolean {
  return /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+$/i.test(id);
}

function scopeLabel(scope: string, input: GraphInput): { label: string; kind: string } {
  const parts = scope.split('/').filter(Boolean);
  if (parts.length === 0) return { label: 'Root', kind: 'Tenant root' };
  if (parts.length === 2) return { label: input.subscriptionName(parts[1]!), kind: 'Subscription' };
  if (parts.length === 4) return { label: parts[3]!, kind: 'Resource group' };
  const r = input.resources.find((x) => x.id.toLowerCase() === scope.toLowerCase());
  return { label: parts[parts.length - 1]!, kind: r ? shortType(r.type) : 'Resource' };
}

export function shortType(type: string): string {
  const t = type.toLowerCase();
  const known: Record<string, string> = {
    'microsoft.compute/virtualmachines': 'Virtual machine',
    'microsoft.managedidentity/userassignedidentities': 'Managed identity',
    'microsoft.keyvault/vaults': 'Key vault',
    'microsoft.storage/storageaccounts': 'Storage account',
    'microsoft.web/sites': 'App Service',
    'microsoft.resources/resourcegroups': 'Resource group',
  };
  return known[t] ?? type.split('/').slice(1).join('/');
}
