import { Counter, Histogram, Registry } from 'prom-client';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CellCounter, CellHistogram } from '../../../src/server/metric-cells.js';

const BOUNDS = [0.001, 0.01, 0.1, 1];

/** The scrape text, one metric at a time, with the order of label pairs normalized (Prometheus ignores it). */
async function lines(r: Registry): Promise<string[]> {
  const text = await r.metrics();
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.replace(/\{([^}]*)\}/, (_m, inner: string) => `{${inner.split(',').sort().join(',')}}`))
    .sort();
}

describe('metric cells', () => {
  it('a counter without labels reads 0 before its first increment, then counts', async () => {
    const r = new Registry();
    const c = new CellCounter('x_total', 'x', [], r);
    expect(await r.metrics()).toContain('x_total 0');
    c.cell().value += 2;
    c.inc();
    expect(await r.metrics()).toContain('# TYPE x_total counter\nx_total 3');
  });

  it('a labelled counter keeps one cell per label set and prints the labels in declared order', async () => {
    const r = new Registry();
    const c = new CellCounter('t_total', 'tokens', ['endpoint', 'result'], r);
    c.inc('imds', 'success');
    c.inc('imds', 'success');
    c.inc('imds', 'failure');
    expect(c.cell('imds', 'success')).toBe(c.cell('imds', 'success'));
    const text = await r.metrics();
    expect(text).toContain('t_total{endpoint="imds",result="success"} 2');
    expect(text).toContain('t_total{endpoint="imds",result="failure"} 1');
    expect(() => c.inc('imds')).toThrow(/2 label values/);
  });

  it('a histogram prints what prom-client prints for the same observations', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('GET', 'PUT'), fc.constantFrom('200', '404'), fc.double({ min: 0, max: 3, noNaN: true })), { maxLength: 40 }),
        async (observations) => {
          const ours = new Registry();
          const theirs = new Registry();
          const h = new CellHistogram('d_seconds', 'duration', ['method', 'status'], BOUNDS, ours);
          const p = new Histogram({ name: 'd_seconds', help: 'duration', labelNames: ['method', 'status'], buckets: BOUNDS, registers: [theirs] });
          for (const [method, status, v] of observations) {
            h.cell(method, status).observe(v);
            p.observe({ method, status }, v);
          }
          expect(await lines(ours)).toEqual(await lines(theirs));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('counters print what prom-client prints for the same increments', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const c = new CellCounter('c_total', 'c', ['a', 'b'], ours);
    const p = new Counter({ name: 'c_total', help: 'c', labelNames: ['a', 'b'], registers: [theirs] });
    for (const [a, b] of [['x', 'y'], ['x', 'y'], ['x', 'z'], ['w', 'y']] as const) {
      c.inc(a, b);
      p.inc({ a, b });
    }
    expect(await lines(ours)).toEqual(await lines(theirs));
  });

  it('refuses bounds that do not increase', () => {
    expect(() => new CellHistogram('h', 'h', [], [1, 1], new Registry())).toThrow(/increase/);
  });
});
