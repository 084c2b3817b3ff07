import { describe, expect, it } from 'vitest';
import { layoutGraph, pathsThrough, DEFAULT_LAYOUT } from '../../src/portal/ui/graph/layout.js';
import { buildAccessGraph, within } from '../../src/portal/ui/graph/model.js';

const SUB = '/subscriptions/11111111-1111-1111-1111-111111111111';
const RG = `${SUB}/resourceGroups/app-rg`;
const VM = `${RG}/providers/Microsoft.Compute/virtualMachines/vm1`;
const KV = `${RG}/providers/Microsoft.KeyVault/vaults/kv1`;
const OTHER = `${SUB}/resourceGroups/other-rg/providers/Microsoft.Storage/storageAccounts/st1`;
const role = (guid: string) => `${SUB}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
const OWNER = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';

function sample(onlyPrincipal?: string) {
  return buildAccessGraph({
    assignments: [
      { principalId: 'AAAA', principalType: 'ServicePrincipal', roleDefinitionId: role(OWNER), scope: SUB },
      { principalId: 'bbbb', principalType: 'ServicePrincipal', roleDefinitionId: role(READER), scope: RG },
      { principalId: 'cccc', principalType: 'ServicePrincipal', roleDefinitionId: role(READER), scope: KV },
    ],
    roleName: (id) => (id.endsWith(OWNER) ? 'Owner' : 'Reader'),
    principalName: (id) => ({ label: `p-${id}`, sublabel: 'Application' }),
    resources: [
      { id: RG, name: 'app-rg', type: 'Microsoft.Resources/resourceGroups' },
      { id: VM, name: 'vm1', type: 'Microsoft.Compute/virtualMachines' },
      { id: KV, name: 'kv1', type: 'Microsoft.KeyVault/vaults' },
      { id: OTHER, name: 'st1', type: 'Microsoft.Storage/storageAccounts' },
    ],
    subscriptionName: () => 'Keyless Subscription',
    onlyPrincipal,
  });
}

describe('access graph model', () => {
  it('gives each role-at-a-scope its own node, so a path never suggests a grant that does not exist', () => {
    const g = sample();
    const roles = g.nodes.filter((n) => n.kind === 'role');
    // Reader at app-rg and Reader at kv1 are two nodes: bbbb must not appear to reach kv1 through cccc's grant.
    expect(roles.map((r) => r.label).sort()).toEqual(['Owner', 'Reader', 'Reader']);
    const reach = pathsThrough('p:bbbb', g.edges);
    expect(reach.has('x:' + VM.toLowerCase())).toBe(true);
    expect(reach.has('x:' + KV.toLowerCase())).toBe(true);
    expect(reach.has('x:' + OTHER.toLowerCase())).toBe(false);
    expect(reach.has('p:cccc')).toBe(false);
    // Owner at the subscription reaches everything in it; groups are scopes, not resources.
    const owner = pathsThrough('p:aaaa', g.edges);
    expect([...owner].filter((id) => id.startsWith('x:')).length).toBe(3);
    expect(g.nodes.some((n) => n.kind === 'resource' && n.label === 'app-rg')).toBe(false);
  });

  it('narrows to one identity', () => {
    const g = sample('cccc');
    expect(g.nodes.filter((n) => n.kind === 'identity').map((n) => n.label)).toEqual(['p-cccc']);
    expect(g.nodes.filter((n) => n.kind === 'resource').map((n) => n.label)).toEqual(['kv1']);
  });

  it('folds a crowded scope into "+N more"', () => {
    const many = Array.from({ length: 15 }, (_, i) => ({ id: `${RG}/providers/Microsoft.Compute/virtualMachines/vm${i}`, name: `vm${i}`, type: 'Microsoft.Compute/virtualMachines' }));
    const g = buildAccessGraph({
      assignments: [{ principalId: 'a', principalType: 'ServicePrincipal', roleDefinitionId: role(READER), scope: RG }],
      roleName: () => 'Reader',
      principalName: (id) => ({ label: id, sublabel: '' }),
      resources: many,
      subscriptionName: () => 'S',
      maxResourcesPerScope: 10,
    });
    expect(g.nodes.filter((n) => n.kind === 'resource')).toHaveLength(10);
    expect(g.nodes.find((n) => n.kind === 'more')?.label).toBe('+5 more');
  });

  it('matches scopes by whole segments', () => {
    expect(within(`${RG}/providers/x/y/z`, RG)).toBe(true);
    expect(within(`${SUB}/resourceGroups/app-rg2`, RG)).toBe(false);
    expect(within(RG.toUpperCase(), RG)).toBe(true);
  });
});

describe('layered layout', () => {
  it('puts nodes in their columns, without overlaps, inside the canvas', () => {
    const g = sample();
    const l = layoutGraph(g.nodes, g.edges, 4);
    for (const n of g.nodes) {
      const p = l.nodes.get(n.id)!;
      expect(p.x).toBe(DEFAULT_LAYOUT.padding + n.column * (DEFAULT_LAYOUT.nodeWidth + DEFAULT_LAYOUT.columnGap));
      expect(p.x + p.width).toBeLessThanOrEqual(l.width);
      expect(p.y + p.height).toBeLessThanOrEqual(l.height);
    }
    for (let c = 0; c < 4; c++) {
      const ys = [...l.nodes.values()].filter((p) => p.column === c).map((p) => p.y).sort((a, b) => a - b);
      for (let i = 1; i < ys.length; i++) expect(ys[i]! - ys[i - 1]!).toBeGreaterThanOrEqual(DEFAULT_LAYOUT.nodeHeight);
    }
    expect(l.edges).toHaveLength(g.edges.length);
    for (const e of l.edges) expect(e.d).toMatch(/^M[\d.]+,[\d.]+ C/);
  });

  it('orders a column by its neighbours, which uncrosses a crossed pair', () => {
    const nodes = [
      { id: 'a', column: 0 },
      { id: 'b', column: 0 },
      { id: 'x', column: 1 },
      { id: 'y', column: 1 },
    ];
    // a→y and b→x cross when x sits above y; the sweep swaps x and y.
    const l = layoutGraph(nodes, [{ from: 'a', to: 'y' }, { from: 'b', to: 'x' }], 2);
    expect(l.nodes.get('y')!.y).toBeLessThan(l.nodes.get('x')!.y);
  });
});
