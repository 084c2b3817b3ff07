import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { lastDueSlot, OpenLoop, parseProcStatTicks, percentile, quantiles, Samples, slotCount, slotOffsetMs } from '../../../bench/open-loop.js';

describe('open-loop schedule', () => {
  it('counts the slots due in a window, slot 0 at the start and none at the end', () => {
    expect(slotCount(1000, 1000)).toBe(1000);
    expect(slotCount(3, 1000)).toBe(3);
    expect(slotCount(900, 15_000)).toBe(13_500);
    expect(slotCount(7, 500)).toBe(4); // 0, 142.9, 285.7, 428.6 ms
    expect(slotCount(0, 1000)).toBe(0);
    expect(slotCount(100, 0)).toBe(0);
  });

  it('spaces slots evenly at 1 / rate, whatever came before', () => {
    expect(slotOffsetMs(0, 800)).toBe(0);
    expect(slotOffsetMs(1, 800)).toBe(1.25);
    expect(slotOffsetMs(800, 800)).toBe(1000);
    const offsets = Array.from({ length: slotCount(7, 1000) }, (_, k) => slotOffsetMs(k, 7));
    for (const o of offsets) expect(o).toBeLessThan(1000);
    expect(offsets.at(-1)! + 1000 / 7).toBeGreaterThanOrEqual(1000 - 1e-9);
  });

  it('finds the last slot due at a moment, exact at the boundaries', () => {
    expect(lastDueSlot(-0.1, 1000, 10)).toBe(-1);
    expect(lastDueSlot(0, 1000, 10)).toBe(0);
    expect(lastDueSlot(0.999, 1000, 10)).toBe(0);
    expect(lastDueSlot(1, 1000, 10)).toBe(1);
    expect(lastDueSlot(5_000, 1000, 10)).toBe(9);
    // Rates whose interval is not a binary fraction: the slot returned is due and the next is not.
    for (const rate of [3, 7, 333, 917]) {
      for (let k = 0; k < 200; k++) {
        const t = slotOffsetMs(k, rate);
        expect(lastDueSlot(t, rate, 1_000)).toBe(k);
        expect(lastDueSlot(t - 1e-6, rate, 1_000)).toBe(k - 1);
      }
    }
    expect(lastDueSlot(10, 1000, 0)).toBe(-1);
  });
});

describe('percentiles', () => {
  it('uses the nearest rank on sorted samples', () => {
    const xs = Float64Array.from({ length: 1000 }, (_, i) => i + 1); // 1..1000
    expect(percentile(xs, 50)).toBe(500);
    expect(percentile(xs, 99)).toBe(990);
    expect(percentile(xs, 99.9)).toBe(999);
    expect(percentile(xs, 100)).toBe(1000);
    expect(percentile(xs, 0)).toBe(1);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 51)).toBe(3);
    expect(percentile([], 99)).toBeNaN();
  });

  it('keeps sub-millisecond samples and sorts them numerically', () => {
    const s = new Samples();
    const values = Array.from({ length: 5000 }, (_, i) => ((i * 7919) % 5000) / 1000 + 0.0005); // grows past the initial buffer
    for (const v of values) s.push(v);
    const sorted = s.sorted();
    expect(sorted.length).toBe(5000);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]!).toBeGreaterThanOrEqual(sorted[i - 1]!);
    const q = quantiles(sorted);
    expect(q.p50).toBeCloseTo(2.4995, 9);
    expect(q.p99).toBeCloseTo(4.9495, 9);
    expect(q.p999).toBeCloseTo(4.9945, 9);
    expect(q.max).toBeCloseTo(4.9995, 9);
  });
});

describe('/proc/<pid>/stat', () => {
  it('adds utime and stime, even when the command name holds spaces and parentheses', () => {
    const stat = '4242 (node (a) b) S 1 4242 4242 0 -1 4194560 9000 0 0 0 1234 56 0 0 20 0 11 0 3000 1099680000 42000 18446744073709551615';
    expect(parseProcStatTicks(stat)).toBe(1234 + 56);
  });

  it('refuses what it cannot read', () => {
    expect(() => parseProcStatTicks('garbage')).toThrow(/unreadable/);
  });
});

describe('open loop, several servers in one schedule', () => {
  it('keeps each group\'s answers and latency apart', async () => {
    const serve = (delayMs: number) =>
      new Promise<http.Server>((resolve) => {
        const srv = http.createServer((_req, res) => void setTimeout(() => res.end('ok'), delayMs));
        srv.listen(0, '127.0.0.1', () => resolve(srv));
      });
    const [quick, slow] = await Promise.all([serve(0), serve(25)]);
    const origin = (s: http.Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    const client = new OpenLoop();
    try {
      const w = await client.run(
        [
          { name: 'get', origin: origin(quick), method: 'GET', path: '/', headers: {}, group: 'quick' },
          { name: 'get', origin: origin(slow), method: 'GET', path: '/', headers: {}, group: 'slow' },
        ],
        200,
        500,
      );
      expect(w.ok).toBe(100);
      const q = w.byGroup.get('quick')!;
      const s = w.byGroup.get('slow')!;
      expect([q.ok, s.ok]).toEqual([50, 50]);
      expect(q.latency.length + s.latency.length).toBe(w.latency.length);
      expect(quantiles(s.latency).p50).toBeGreaterThanOrEqual(25);
      expect(quantiles(q.latency).p50).toBeLessThan(25);
      expect(s.serviceByTarget.get('get')!.length).toBe(50);
    } finally {
      client.close();
      quick.close();
      slow.close();
    }
  });
});
