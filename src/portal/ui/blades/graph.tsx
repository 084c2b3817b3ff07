import { useMemo, useState } from 'preact/hooks';
import { arm } from '../api.js';
import { Loaded, PageHeader } from '../components.js';
import { layoutGraph, pathsThrough, DEFAULT_LAYOUT } from '../graph/layout.js';
import { buildAccessGraph, COLUMN_TITLES, type GraphNode } from '../graph/model.js';
import { useAsync } from '../hooks.js';
import type { ArmResource, RoleAssignment } from '../models.js';
import { href, resourceHref } from '../router.js';
import { shortKindLabel, useApp, usePrincipalNames, useRoles } from '../state.js';

/** Identities → roles → scopes → resources, as an SVG drawn from what ARM lets the signed-in principal read. */
export function GraphBlade({ principal }: { principal?: string | undefined }) {
  const { subscriptionId } = useApp();
  const sub = `/subscriptions/${subscriptionId}`;
  const data = useAsync(async () => {
    const [assignments, groups, resources] = await Promise.all([
      arm.list<RoleAssignment>(`${sub}/providers/Microsoft.Authorization/roleAssignments`),
      arm.list<ArmResource>(`${sub}/resourceGroups`),
      arm.list<ArmResource>(`${sub}/resources`),
    ]);
    return { assignments, resources: [...groups, ...resources] };
  }, [sub]);
  return (
    <section>
      <PageHeader title="Access graph" subtitle="Who reaches what: each identity's role assignments, the scopes they apply at, and the resources inside those scopes." />
      <Loaded state={data} title="Could not read the role assignments">
        {(d) => <GraphView assignments={d.assignments} resources={d.resources} principal={principal} />}
      </Loaded>
    </section>
  );
}

function GraphView({ assignments, resources, principal }: { assignments: RoleAssignment[]; resources: ArmResource[]; principal?: string | undefined }) {
  const { subscriptionId, subscriptions, session } = useApp();
  const { nameOf } = useRoles(subscriptionId);
  const names = usePrincipalNames(assignments.map((a) => a.properties.principalId));
  const [hover, setHover] = useState<string | undefined>();
  const only = principal?.toLowerCase();

  const graph = useMemo(
    () =>
      buildAccessGraph({
        assignments: assignments.map((a) => a.properties),
        roleName: nameOf,
        principalName: (id) => {
          const n = names(id);
          const you = id === session.principal.objectId.toLowerCase() ? ' (you)' : '';
          return { label: (n?.displayName ?? `${id.slice(0, 8)}…`) + you, sublabel: shortKindLabel(n?.kind) };
        },
        resources: resources.map((r) => ({ id: r.id, name: r.name, type: r.type })),
        subscriptionName: (id) => subscriptions.find((s) => s.subscriptionId.toLowerCase() === id.toLowerCase())?.displayName ?? id,
        onlyPrincipal: only,
      }),
    [assignments, resources, only, nameOf, names, session, subscriptions],
  );
  const layout = useMemo(() => layoutGraph(graph.nodes, graph.edges, 4), [graph]);
  const lit = hover ? pathsThrough(hover, graph.edges) : undefined;
  const principals = [...new Set(assignments.map((a) => a.properties.principalId.toLowerCase()))];

  return (
    <div>
      <div class="toolbar">
        <label class="inline-field">
          Show
          <select aria-label="Identity to show" value={only ?? ''} onChange={(e) => (window.location.hash = href('graph', { principal: (e.target as HTMLSelectElement).value }))}>
            <option value="">All identities ({principals.length})</option>
            {principals.map((p) => (
              <option key={p} value={p}>
                {names(p)?.displayName ?? p}
              </option>
            ))}
          </select>
        </label>
        <span class="small muted">
          {graph.nodes.filter((n) => n.kind === 'identity').length} identities · {assignments.filter((a) => !only || a.properties.principalId.toLowerCase() === only).length} role assignments. Hover a node to trace its paths; click to open it.
        </span>
      </div>
      {graph.nodes.length === 0 ? (
        <div class="empty-state">
          <h3>No role assignments to draw</h3>
          <p class="muted">No role assignment you can read grants {only ? 'this identity' : 'anyone'} access in this subscription.</p>
        </div>
      ) : (
        <div class="graph-wrap">
          <svg class="graph" role="img" aria-label="Access graph" width={layout.width} height={layout.height} viewBox={`0 0 ${layout.width} ${layout.height}`}>
            {COLUMN_TITLES.map((t, i) => (
              <text key={t} class="col-title" x={DEFAULT_LAYOUT.padding + i * (DEFAULT_LAYOUT.nodeWidth + DEFAULT_LAYOUT.columnGap)} y={DEFAULT_LAYOUT.padding + 14}>
                {t}
              </text>
            ))}
            <g class="edges">
              {layout.edges.map((e) => (
                <path key={`${e.from}>${e.to}`} d={e.d} class={lit ? (lit.has(e.from) && lit.has(e.to) ? 'edge lit' : 'edge dim') : 'edge'} />
              ))}
            </g>
            <g class="nodes">
              {graph.nodes.map((n) => {
                const p = layout.nodes.get(n.id)!;
                return (
                  <g
                    key={n.id}
                    class={`node node-${n.kind}${lit ? (lit.has(n.id) ? ' lit' : ' dim') : ''}`}
                    transform={`translate(${p.x},${p.y})`}
                    onMouseEnter={() => setHover(n.id)}
                    onMouseLeave={() => setHover(undefined)}
                    onClick={() => open(n)}
                    tabIndex={0}
                    role="button"
                    aria-label={`${n.label}, ${n.sublabel}`}
                  >
                    <title>{`${n.label} — ${n.sublabel}`}</title>
                    <rect width={p.width} height={p.height} rx="6" />
                    <rect class="node-accent" width="5" height={p.height} rx="2" />
                    <text x="14" y="19" class="node-label">
                      {clip(n.label, 26)}
                    </text>
                    <text x="14" y="35" class="node-sub">
                      {clip(n.sublabel, 32)}
                    </text>
                  </g>
                );
              })}
            </g>
          </svg>
        </div>
      )}
      <div class="legend small muted">
        <span class="lg lg-identity" /> identity <span class="lg lg-role" /> role at a scope <span class="lg lg-scope" /> scope <span class="lg lg-resource" /> resource
      </div>
    </div>
  );
}

function open(n: GraphNode): void {
  if (n.kind === 'identity' && n.target) window.location.hash = href('graph', { principal: n.target });
  else if ((n.kind === 'scope' || n.kind === 'resource') && n.target) window.location.hash = resourceHref(n.target);
}

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
