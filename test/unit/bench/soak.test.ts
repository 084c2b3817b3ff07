import { describe, expect, it } from 'vitest';
import { byTargetTable, controlLines, GROWTH_LIMIT, interleave, judge, pooledQuantiles, soakOptions, type MinuteRow } from '../../../bench/soak.js';
import type { Target } from '../../../bench/open-loop.js';

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
  it('judges the pooled p99 against the fresh server\'s at the same time, so the machine\'s drift does not count', () => {
    // The machine slowed by half over the run: raw p99 +50 %, but the fresh server is as slow as the soaked one.
    const rows = [1, 2, 3, 4, 5, 6, 7, 8].map((m) => row(m, 200, m <= 4 ? 2 : 3));
    const minutes = (p99: number, rss: number) => [9, 10, 11, 12, 13].map((m) => row(m, rss, p99));
    const same = { soaked: minutes(3.0, 201), fresh: minutes(3.0, 150), pooledP99ms: { soaked: 3.0, fresh: 3.0 } };
    const v = judge(rows, same);
    expect(v.p99.growth).toBeCloseTo(0.5, 9);
    expect(v.control!.p99).toEqual({ baseline: 3.0, end: 3.0, growth: 0 });
    expect(v.control!.drift.growth).toBeCloseTo(0.5, 9);
    expect(v.control!.minutes).toBe(5);
    expect(v.ok).toBe(true);
    expect(controlLines(v, same).join('\n')).toMatch(/\*\*p99 3\.000 → 3\.000 ms \(\+0\.0 %\)\*\*/);
    // The fresh server's calibration, when it had one, is said: it is what makes the two differ by the soak alone.
    expect(controlLines(v, same).join('\n')).not.toMatch(/calibration/);
    expect(controlLines(v, { ...same, calibrationSeconds: 15 }).join('\n')).toMatch(/fresh Keyless \(empty store\) given the soaked one's 15 s closed-loop calibration, warmed/);
    // A soaked server slower than the fresh one at the same time fails, whatever the raw growth says.
    const worse = { ...same, pooledP99ms: { soaked: 3.31, fresh: 3.0 } };
    expect(judge(rows, worse).ok).toBe(false);
    expect(judge(rows.map((r) => ({ ...r, p99ms: 2 })), worse).ok).toBe(false);
    expect(judge(rows, { ...same, pooledP99ms: { soaked: 3.3, fresh: 3.0 } }).ok).toBe(true);
    // RSS is still judged on the soak's own minutes.
    expect(judge(rows.map((r) => (r.minute >= 6 ? { ...r, rssMb: 230 } : r)), same).ok).toBe(false);
    // Without a control the raw p99 decides, as before.
    expect(judge(rows).ok).toBe(false);
    expect(controlLines(judge(rows), { soaked: [], fresh: [], pooledP99ms: { soaked: NaN, fresh: NaN } })).toEqual([]);
  });

  it('decides on the pooled p99, not on the minutes\' medians', () => {
    const rows = [1, 2, 3, 4, 5, 6, 7].map((m) => row(m, 200, 2));
    // Per-minute p99s that say +50 %, pooled requests that say +5 %: the pooled figure decides (and the other is shown).
    const c = { soaked: [row(8, 200, 3), row(9, 200, 3), row(10, 200, 3)], fresh: [row(8, 150, 2), row(9, 150, 2), row(10, 150, 2)], pooledP99ms: { soaked: 2.1, fresh: 2.0 } };
    const v = judge(rows, c);
    expect(v.control!.minuteP99.growth).toBeCloseTo(0.5, 9);
    expect(v.control!.p99.growth).toBeCloseTo(0.05, 9);
    expect(v.ok).toBe(true);
    expect(judge(rows, { ...c, pooledP99ms: { soaked: 3, fresh: 2 } }).ok).toBe(false);
  });
});

describe('soak control: one schedule for both servers', () => {
  const t = (name: string): Target => ({ name, origin: 'https://127.0.0.1:1', method: 'GET', path: '/', headers: {} });
  it('alternates the servers\' targets one by one and tags each with its server', () => {
    const out = interleave([
      { label: 'soaked', targets: [t('a'), t('b'), t('c')] },
      { label: 'fresh', targets: [t('a'), t('b')] },
    ]);
    expect(out.map((x) => `${x.group}:${x.name}`)).toEqual(['soaked:a', 'fresh:a', 'soaked:b', 'fresh:b', 'soaked:c']);
    expect(interleave([{ label: 'soaked', targets: [t('a')] }]).map((x) => x.group)).toEqual(['soaked']);
  });

  it('pools the minutes\' samples before taking a percentile', () => {
    // Minute 1 all fast, minute 2 with a stall: per-minute p99s are 1 and 100, the pooled p99 is the 99th of 200.
    const fast = Float64Array.from({ length: 100 }, () => 1);
    const stalled = Float64Array.from({ length: 100 }, (_, i) => (i >= 97 ? 100 : 1));
    const q = pooledQuantiles([fast, stalled]);
    expect(q.p99).toBe(100);
    expect(q.p50).toBe(1);
    expect(pooledQuantiles([fast, Float64Array.from({ length: 100 }, (_, i) => (i >= 99 ? 100 : 1))]).p99).toBe(1);
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
