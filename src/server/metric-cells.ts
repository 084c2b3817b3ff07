import type { Registry } from 'prom-client';

/**
 * Prometheus counters and histograms whose per-request cost is an addition to a cell that the caller found once
 * per label set. prom-client's own `inc`/`observe` turn the label object into a string key on every call (and the
 * histogram its bucket bound into a property name); on the cached IMDS answer that cost about a quarter of the
 * throughput (bench/NOTES.md, "Metrics off the hot path"). These register in a prom-client Registry through its
 * metric interface (`name`, `help`, `type`, `get()`), so scraping, the text format and the other metrics are
 * prom-client's; only the counting moved. Label values are folded into output at scrape time.
 */

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

interface MetricObject {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: MetricValue[];
  aggregator: 'sum';
}

/** Label values → cell, one Map level per label, so a lookup never builds a key string. */
class CellTree<C> {
  private readonly root = new Map<string, unknown>();

  constructor(
    private readonly depth: number,
    private readonly make: (values: readonly string[]) => C,
  ) {}

  get(values: readonly string[]): C {
    if (values.length !== this.depth) throw new Error(`expected ${this.depth} label values, got ${values.length}`);
    let level: Map<string, unknown> = this.root;
    for (let i = 0; i < values.length - 1; i++) {
      let next = level.get(values[i]!) as Map<string, unknown> | undefined;
      if (!next) level.set(values[i]!, (next = new Map()));
      level = next;
    }
    const last = values[values.length - 1] ?? '';
    let cell = level.get(last) as C | undefined;
    if (cell === undefined) level.set(last, (cell = this.make([...values])));
    return cell;
  }

  *cells(): Iterable<C> {
    const walk = function* (m: Map<string, unknown>, d: number): Iterable<C> {
      for (const v of m.values()) {
        if (d === 1) yield v as C;
        else yield* walk(v as Map<string, unknown>, d - 1);
      }
    };
    if (this.depth === 0) {
      const only = this.root.get('');
      if (only !== undefined) yield only as C;
      return;
    }
    yield* walk(this.root, this.depth);
  }
}

export interface CounterCell {
  value: number;
  readonly labels: Record<string, string>;
}

/** What both kinds share: name and help, one cell per label set, and registration in a prom-client Registry. */
abstract class CellMetric<C> {
  protected readonly tree: CellTree<C>;

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[],
    registry: Registry,
    make: (labels: Record<string, string>) => C,
  ) {
    this.tree = new CellTree(labelNames.length, (values) => make(zip(labelNames, values)));
    registry.registerMetric(this as never);
  }

  /** The cell for these label values (in labelNames order); keep it to count without a lookup. */
  cell(...values: string[]): C {
    return this.tree.get(values);
  }

  abstract get(): Promise<MetricObject>;
}

export class CellCounter extends CellMetric<CounterCell> {
  readonly type = 'counter' as const;

  constructor(name: string, help: string, labelNames: readonly string[], registry: Registry) {
    super(name, help, labelNames, registry, (labels) => ({ value: 0, labels }));
    // A counter without labels reads 0 before its first increment, as prom-client's does.
    if (labelNames.length === 0) this.tree.get([]);
  }

  inc(...values: string[]): void {
    this.tree.get(values).value++;
  }

  get(): Promise<MetricObject> {
    const values = [...this.tree.cells()].map((c) => ({ value: c.value, labels: c.labels }));
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' });
  }
}

export class HistogramCell {
  sum = 0;
  count = 0;
  /** Observations per bucket, not cumulative (folded at scrape time); the last slot is above every bound. */
  readonly buckets: Float64Array;

  constructor(
    private readonly bounds: readonly number[],
    readonly labels: Record<string, string>,
  ) {
    this.buckets = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    this.buckets[i]!++;
    this.sum += value;
    this.count++;
  }
}

export class CellHistogram extends CellMetric<HistogramCell> {
  readonly type = 'histogram' as const;

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    if (bounds.some((b, i) => i > 0 && b <= bounds[i - 1]!)) throw new Error('histogram bounds must increase');
    super(name, help, labelNames, registry, (labels) => new HistogramCell(bounds, labels));
  }

  get(): Promise<MetricObject> {
    const values: MetricValue[] = [];
    for (const c of this.tree.cells()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += c.buckets[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...c.labels, le }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...c.labels, le: '+Inf' }, value: c.count });
      values.push({ metricName: `${this.name}_sum`, labels: c.labels, value: c.sum });
      values.push({ metricName: `${this.name}_count`, labels: c.labels, value: c.count });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' });
  }
}

function zip(names: readonly string[], values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  names.forEach((n, i) => (out[n] = values[i]!));
  return out;
}
