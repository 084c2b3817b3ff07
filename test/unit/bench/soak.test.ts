import { describe, expect, it } from 'vitest';
import { byTargetTable, controlLines, GROWTH_LIMIT, judge, soakOptions, type MinuteRow } from '../../../bench/soak.js';

const row = (minute: number, rssMb: number, p99ms: number, cpuUsPerReq = 100): MinuteRow => ({
  minute,
  rssMb,
  p50ms: p99ms / 4,
  p99ms,
  p999ms: p99ms * 2,
  maxMs: p99ms * 3,
  achieved: 900,
  cpuUsPerReq,
  cpuPct: 35,
  sendLagP99ms: 0.2,
});

describe('soak criterion', () => {
  it('compares the median of minutes 2–4 with the median of the last three', () => {
    // Minute 1 (warm-up) and single outlier minutes do not decide.
    const rows = [row(1, 150, 9), row(2, 200, 2.0), row(3, 260, 2.2), row(4, 202, 1.9), row(5, 205, 2.1), row(6, 208, 2.1), row(7, 210, 2.15), row(8, 300, 5), row(9, 209, 2.18)];
    const v = judge(rows);
    expect(v.baselineMinutes).toEqual([2, 3, 4]);
    expect(v.endMinutes).toEqual([7, 8, 9]);
    expect(v.overlap).toBe(false);
    expect(v.rss.baseline).toBe(202);
    expect(v.rss.end).toBe(210);
    expect(v.p99.baseline).toBe(2.0);
    expect(v.p99.end).toBe(2.18);
    expect(v.p99.growth).toBeCloseTo(0.09, 9);
    expect(v.ok).toBe(true);
  });

  it('fails on more than 10 % growth of RSS or of p99, not of CPU per request', () => {
    const flat = [1, 2, 3, 4, 5, 6, 7].map((m) => row(m, 200, 2));
    expect(judge(flat).ok).toBe(true);
    const rss = flat.map((r) => (r.minute >= 5 ? { ...r, rssMb: 200 * (1 + GROWTH_LIMIT) + 0.1 } : r));
    expect(judge(rss).ok).toBe(false);
    const p99 = flat.map((r) => (r.minute >= 5 ? { ...r, p99ms: 2.21 } : r));
    expect(judge(p99).ok).toBe(false);
    const atLimit = flat.map((r) => (r.minute >= 5 ? { ...r, p99ms: 2.2, rssMb: 220 } : r));
    expect(judge(atLimit).ok).toBe(true);
    const cpu = flat.map((r) => (r.minute >= 5 ? { ...r, cpuUsPerReq: 150 } : r));
    const v = judge(cpu);
    expect(v.cpu.growth).toBeCloseTo(0.5, 9);
    expect(v.ok).toBe(true);
  });

  it('says when a short run makes the windows overlap', () => {
    const v = judge([1, 2, 3, 4].map((m) => row(m, 200, 2)));
    expect(v.baselineMinutes).toEqual([2, 3, 4]);
    expect(v.endMinutes).toEqual([2, 3, 4]);
    expect(v.overlap).toBe(true);
    expect(judge([row(1, 200, 2)]).baselineMinutes).toEqual([1]);
    expect(() => judge([])).toThrow();
  });
});

describe('soak criterion with the fresh-server control', () => {
  it('judges p99 against the fresh server at the same time, so the machine\'s drift does not count', () => {
    // The machine slowed by half over the run: raw p99 +50 %, but the fresh server is as slow as the soaked one.
    const rows = [1, 2, 3, 4, 5, 6, 7, 8].map((m) => row(m, 200, m <= 4 ? 2 : 3));
    const same = { soaked: [row(9, 201, 3.0), row(12, 201, 3.1), row(13, 202, 2.9)], fresh: [row(10, 150, 3.0), row(11, 150, 3.0), row(14, 150, 3.05)] };
    const v = judge(rows, same);
    expect(v.p99.growth).toBeCloseTo(0.5, 9);
    expect(v.control!.p99.baseline).toBe(3.0);
    expect(v.control!.p99.end).toBe(3.0);
    expect(v.control!.drift.growth).toBeCloseTo(0.5, 9);
    expect(v.control!.pairs).toBe(3);
    expect(v.ok).toBe(true);
    expect(controlLines(v, same).join('\n')).toMatch(/p99 3\.000 → 3\.000 ms \(\+0\.0 %\)/);
    // A soaked server slower than the fresh one at the same time fails, whatever the raw growth says.
    const worse = { soaked: same.soaked.map((r) => ({ ...r, p99ms: 3.4 })), fresh: same.fresh };
    expect(judge(rows, worse).ok).toBe(false);
    expect(judge(rows.map((r) => ({ ...r, p99ms: 2 })), worse).ok).toBe(false);
    // RSS is still judged on the soak's own minutes.
    expect(judge(rows.map((r) => (r.minute >= 6 ? { ...r, rssMb: 230 } : r)), same).ok).toBe(false);
    // Without a control the raw p99 decides, as before.
    expect(judge(rows).ok).toBe(false);
    expect(controlLines(judge(rows), { soaked: [], fresh: [] })).toEqual([]);
  });
});

describe('soak: service time per request type', () => {
  it('puts each type\'s baseline and end medians side by side, so a slowdown names its request type', () => {
    const rows = [1, 2, 3, 4, 5, 6, 7, 8].map((m) => ({
      ...row(m, 200, 2),
      byTarget: { 'KV PUT': { p50ms: m <= 4 ? 1 : 2, p99ms: 4 }, 'IMDS': { p50ms: 0.5, p99ms: m === 8 ? 9 : 1 } },
    }));
    const lines = byTargetTable(rows, judge(rows));
    expect(lines).toContain('| KV PUT | 1.00 → 2.00 (+100.0 %) | 4.00 → 4.00 (+0.0 %) |');
    // The end is the median of minutes 6–8: one bad minute does not move it.
    expect(lines).toContain('| IMDS | 0.50 → 0.50 (+0.0 %) | 1.00 → 1.00 (+0.0 %) |');
    expect(byTargetTable([row(1, 200, 2)], judge([row(1, 200, 2)]))).toEqual([]);
  });
});

describe('soak options', () => {
  it('reads --minutes, --minute-seconds, --rate, --no-record and --no-control', () => {
    expect(soakOptions(['node', 'soak.ts'])).toEqual({ minutes: 30, minuteSeconds: 60, record: true, control: true });
    expect(soakOptions(['node', 'soak.ts', '--minutes', '4', '--minute-seconds', '15', '--rate', '800', '--no-record', '--no-control'])).toEqual({ minutes: 4, minuteSeconds: 15, rate: 800, record: false, control: false });
    expect(() => soakOptions(['node', 'soak.ts', '--rate', '0'])).toThrow(/--rate/);
  });
});
