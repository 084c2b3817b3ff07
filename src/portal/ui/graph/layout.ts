/**
 * A layered ("Sugiyama-lite") layout for the access graph: nodes sit in fixed columns, edges run between
 * neighbouring columns, and nodes are ordered within a column by the mean position of their neighbours
 * (a few down-and-up sweeps), which removes most crossings for graphs of the size a portal shows.
 * Pure: no DOM, so it is unit-tested in Node.
 */

export interface LayoutNode {
  id: string;
  column: number;
}

export interface LayoutEdge {
  from: string;
  to: string;
}

export interface PlacedNode {
  id: string;
  column: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedEdge extends LayoutEdge {
  /** SVG path data: a horizontal cubic curve from the source's right side to the target's left side. */
  d: string;
}

export interface Layout {
  nodes: Map<string, PlacedNode>;
  edges: PlacedEdge[];
  width: number;
  height: number;
}

export interface LayoutOptions {
  nodeWidth: number;
  nodeHeight: number;
  columnGap: number;
  rowGap: number;
  padding: number;
  /** Space above the columns for their titles. */
  headerHeight: number;
}

export const DEFAULT_LAYOUT: LayoutOptions = { nodeWidth: 210, nodeHeight: 46, columnGap: 90, rowGap: 14, padding: 16, headerHeight: 34 };

export function layoutGraph(nodes: LayoutNode[], edges: LayoutEdge[], columnCount: number, opts: LayoutOptions = DEFAULT_LAYOUT): Layout {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const live = edges.filter((e) => byId.has(e.from) && byId.has(e.to));
  const columns: string[][] = Array.from({ length: columnCount }, () => []);
  for (const n of nodes) columns[n.column]?.push(n.id);

  const preds = new Map<string, string[]>();
  const succs = new Map<string, string[]>();
  for (const e of live) {
    (preds.get(e.to) ?? preds.set(e.to, []).get(e.to)!).push(e.from);
    (succs.get(e.from) ?? succs.set(e.from, []).get(e.from)!).push(e.to);
  }

  const order = new Map<string, number>();
  const renumber = (col: string[]) => col.forEach((id, i) => order.set(id, i));
  columns.forEach(renumber);
  const barycenter = (id: string, neighbours: Map<string, string[]>): number | undefined => {
    const ns = neighbours.get(id);
    if (!ns || ns.length === 0) return undefined;
    return ns.reduce((s, n) => s + (order.get(n) ?? 0), 0) / ns.length;
  };
  const sortBy = (col: string[], neighbours: Map<string, string[]>) => {
    // Nodes without neighbours keep their place relative to the others (stable sort on the old index).
    const keyed = col.map((id, i) => ({ id, k: barycenter(id, neighbours) ?? i, i }));
    keyed.sort((a, b) => a.k - b.k || a.i - b.i);
    col.splice(0, col.length, ...keyed.map((x) => x.id));
    renumber(col);
  };
  for (let sweep = 0; sweep < 4; sweep++) {
    for (let c = 1; c < columnCount; c++) sortBy(columns[c]!, preds);
    for (let c = columnCount - 2; c >= 0; c--) sortBy(columns[c]!, succs);
  }

  const tallest = Math.max(0, ...columns.map((c) => c.length));
  const colHeight = (n: number) => n * opts.nodeHeight + Math.max(0, n - 1) * opts.rowGap;
  const height = opts.padding * 2 + opts.headerHeight + colHeight(tallest);
  const width = opts.padding * 2 + columnCount * opts.nodeWidth + Math.max(0, columnCount - 1) * opts.columnGap;

  const placed = new Map<string, PlacedNode>();
  columns.forEach((col, c) => {
    // Shorter columns are centred against the tallest, so edges fan out evenly.
    const top = opts.padding + opts.headerHeight + (colHeight(tallest) - colHeight(col.length)) / 2;
    col.forEach((id, i) => {
      placed.set(id, {
        id,
        column: c,
        x: opts.padding + c * (opts.nodeWidth + opts.columnGap),
        y: top + i * (opts.nodeHeight + opts.rowGap),
        width: opts.nodeWidth,
        height: opts.nodeHeight,
      });
    });
  });

  const placedEdges = live.map((e) => {
    const a = placed.get(e.from)!;
    const b = placed.get(e.to)!;
    const x1 = a.x + a.width;
    const y1 = a.y + a.height / 2;
    const x2 = b.x;
    const y2 = b.y + b.height / 2;
    const dx = Math.max(30, (x2 - x1) / 2);
    return { ...e, d: `M${r(x1)},${r(y1)} C${r(x1 + dx)},${r(y1)} ${r(x2 - dx)},${r(y2)} ${r(x2)},${r(y2)}` };
  });
  return { nodes: placed, edges: placedEdges, width, height };
}

/** Everything on a path through `id`: what reaches it and what it reaches (for highlighting on hover). */
export function pathsThrough(id: string, edges: LayoutEdge[]): Set<string> {
  // Forward and backward separately: going forward and then back would light up siblings that share a scope.
  const reach = (forward: boolean): Set<string> => {
    const seen = new Set<string>([id]);
    const stack = [id];
    while (stack.length) {
      const cur = stack.pop()!;
      for (const e of edges) {
        const [from, to] = forward ? [e.from, e.to] : [e.to, e.from];
        if (from === cur && !seen.has(to)) {
          seen.add(to);
          stack.push(to);
        }
      }
    }
    return seen;
  };
  return new Set([...reach(true), ...reach(false)]);
}

const r = (n: number): string => String(Math.round(n * 10) / 10);
