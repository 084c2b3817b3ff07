/**
 * Open-loop (constant-arrival-rate) load generator for the soak, after wrk2 and k6's constant-arrival-rate
 * executor. Request k is due at t0 + k / rate whatever happened to the ones before it, and its latency is
 * measured from that due time, not from when it was sent: a server stall delays every request due during it,
 * and all of that shows (no coordinated omission). Connections come from keep-alive agents with a pool far
 * larger than the concurrency a healthy server needs, so requests do not queue on the client side.
 *
 * Timing: Node's timers fire at whole milliseconds, which at ~1 ms between requests would add up to a
 * millisecond of the generator's own lateness to every latency. A worker thread keeps the schedule instead,
 * sleeping in Atomics.wait (sub-millisecond, no spinning) and waking the main thread for each due request;
 * both threads read the same monotonic clock (process.hrtime). How late each request left is recorded
 * (`sendLag`), so the generator's share is visible.
 *
 * The pure parts (schedule, percentiles, /proc parsing) are exported for test/unit/bench.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { Worker } from 'node:worker_threads';

/** Monotonic time in milliseconds, the same clock in every thread of the process. */
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Requests due in a window of `durationMs` at `rate` per second (slot 0 at the start, none at the end). */
export function slotCount(rate: number, durationMs: number): number {
  if (!(rate > 0) || !(durationMs > 0)) return 0;
  return Math.max(0, Math.ceil((rate * durationMs) / 1000 - 1e-9));
}

/** When slot k is due, in ms after the window's start. */
export const slotOffsetMs = (k: number, rate: number): number => (k * 1000) / rate;

/** The last slot due at `elapsedMs` into the window (-1 before slot 0), never beyond `count - 1`. */
export function lastDueSlot(elapsedMs: number, rate: number, count: number): number {
  if (elapsedMs < 0 || count <= 0) return -1;
  let k = Math.min(count - 1, Math.floor((elapsedMs * rate) / 1000));
  // Guard the division's rounding: the slot returned must really be due, and the next one must not be.
  while (k >= 0 && slotOffsetMs(k, rate) > elapsedMs) k--;
  while (k + 1 < count && slotOffsetMs(k + 1, rate) <= elapsedMs) k++;
  return k;
}

/** Exact nearest-rank percentile (p in 0..100) of ascending-sorted samples; NaN when there are none. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  // (p · n) / 100 rather than (p / 100) · n, and a hair of tolerance: 99.9 % of 1000 must be rank 999, not 1000.
  const rank = Math.ceil((p * n) / 100 - 1e-9);
  return sorted[Math.min(n - 1, Math.max(0, rank - 1))]!;
}

/** A growable list of float samples (latencies in ms), sorted once when read. */
export class Samples {
  private buf = new Float64Array(1024);
  length = 0;
  push(x: number): void {
    if (this.length === this.buf.length) {
      const bigger = new Float64Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.length++] = x;
  }
  sorted(): Float64Array {
    return this.buf.slice(0, this.length).sort();
  }
}

/** Several sorted sample arrays as one sorted array. */
export function concatSorted(windows: readonly Float64Array[]): Float64Array {
  if (windows.length === 1) return windows[0]!;
  const all = new Float64Array(windows.reduce((n, w) => n + w.length, 0));
  let at = 0;
  for (const w of windows) {
    all.set(w, at);
    at += w.length;
  }
  return all.sort();
}

export interface Quantiles {
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

export function quantiles(sorted: ArrayLike<number>): Quantiles {
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), p999: percentile(sorted, 99.9), max: sorted.length ? sorted[sorted.length - 1]! : NaN };
}

/** utime + stime, in clock ticks, from the text of /proc/<pid>/stat (fields 14 and 15; the name may hold spaces). */
export function parseProcStatTicks(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unreadable /proc stat: ${stat.slice(0, 120)}`);
  return utime + stime;
}

let clockTicks: number | undefined;
/** CPU time (user + system) from a /proc stat file (a process's or one thread's), in microseconds (Linux). */
export function statCpuMicros(statFile: string): number {
  clockTicks ??= (() => {
    try {
      return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      return 100;
    }
  })();
  return (parseProcStatTicks(fs.readFileSync(statFile, 'utf8')) * 1e6) / clockTicks;
}

/** CPU time (user + system) a process has used, in microseconds (Linux /proc). */
export function cpuMicros(pid: number): number {
  return statCpuMicros(`/proc/${pid}/stat`);
}

export interface Target {
  /** For failure messages. */
  name: string;
  /** Where to connect: `https://127.0.0.1:port` or `http://…`; the Host header may name something else. */
  origin: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** Which server the target belongs to, when one window loads several at once (the soak's control). */
  group?: string;
}

/** One group's share of a window: its 2xx answers' latency (from due time) and service time per target name. */
export interface GroupResult {
  ok: number;
  latency: Float64Array;
  serviceByTarget: Map<string, Float64Array>;
}

export interface WindowResult {
  rate: number;
  durationMs: number;
  scheduled: number;
  /** Answered with 2xx. */
  ok: number;
  non2xx: number;
  /** Socket errors and requests still unanswered at the drain deadline. */
  errors: number;
  /** The first few failures, for the error message. */
  failures: string[];
  /** Latency from each request's due time, ms, ascending (2xx answers only). */
  latency: Float64Array;
  /** How late each request was sent after its due time, ms, ascending. */
  sendLag: Float64Array;
  /**
   * Per target name: service time (from when the request was sent, not due), ms, ascending, 2xx only. Queueing
   * behind another request still counts, but a slowdown confined to one request type shows here as that type's
   * median moving and no other.
   */
  serviceByTarget: Map<string, Float64Array>;
  /** The same, per target group (targets without one are in group ''). */
  byGroup: Map<string, GroupResult>;
  /** Completed answers per second, from the window's start to the last answer. */
  achievedRate: number;
  maxInFlight: number;
  /** Connections opened during the window (a healthy keep-alive pool opens few after the first). */
  connections: number;
  /** The generator's own CPU (user + system, all threads) over the window, % of one core. */
  generatorCpuPct: number;
}

// The schedule keeper: sleeps until each slot is due and posts the last due slot's index to the main thread.
const CLOCK_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { t0, rate, count } = workerData;
const cell = new Int32Array(new SharedArrayBuffer(4));
const now = () => Number(process.hrtime.bigint()) / 1e6;
let next = 0;
while (next < count) {
  const wait = t0 + (next * 1000) / rate - now();
  if (wait > 0) Atomics.wait(cell, 0, 0, wait);
  const elapsed = now() - t0;
  let last = Math.min(count - 1, Math.floor((elapsed * rate) / 1000));
  while (last >= next && (last * 1000) / rate > elapsed) last--;
  if (last < next) continue;
  parentPort.postMessage(last);
  next = last + 1;
}
`;

export interface OpenLoopOptions {
  /** Trusted CA for https origins. */
  ca?: string | Buffer;
  /** Sockets per origin; far above the concurrency needed, so the agent never queues. */
  maxSockets?: number;
}

/** An open-loop client: one keep-alive agent per origin, kept across windows. */
export class OpenLoop {
  private agents = new Map<string, http.Agent>();
  private seen = new WeakSet<object>();
  constructor(private readonly opts: OpenLoopOptions = {}) {}

  private agent(origin: string): http.Agent {
    let a = this.agents.get(origin);
    if (!a) {
      // An idle socket is closed by the client after 4 s, before any server's keep-alive timeout (Node's default
      // 5 s, ARM's 65 s) can close it under a request just sent on it: that race answers ECONNRESET, and one
      // stopped a soak in its 16th minute (bench/NOTES.md, "Seventh round").
      const o = { keepAlive: true, maxSockets: this.opts.maxSockets ?? 256, timeout: 4_000 };
      a = origin.startsWith('https:') ? new https.Agent({ ...o, ca: this.opts.ca }) : new http.Agent(o);
      this.agents.set(origin, a);
    }
    return a;
  }

  /**
   * Sends `targets` round-robin at `rate` per second for `durationMs`, then waits up to `drainMs` for the
   * answers still outstanding (any left then count as errors).
   */
  async run(targets: readonly Target[], rate: number, durationMs: number, drainMs = 10_000): Promise<WindowResult> {
    if (targets.length === 0) throw new Error('open loop: no targets');
    const count = slotCount(rate, durationMs);
    const prepared = targets.map((t) => {
      const u = new URL(t.origin);
      const mod = u.protocol === 'https:' ? https : http;
      const headers = t.body === undefined ? t.headers : { ...t.headers, 'content-length': String(Buffer.byteLength(t.body)) };
      return { t, mod, agent: this.agent(t.origin), hostname: u.hostname, port: u.port, headers, group: t.group ?? '' };
    });
    const sendLag = new Samples();
    // Kept per group only; the window's totals are merged from them at the end, not pushed twice per answer.
    const groups = new Map<string, { ok: number; latency: Samples; service: Map<string, Samples> }>();
    for (const t of targets) {
      const g = groups.get(t.group ?? '') ?? { ok: 0, latency: new Samples(), service: new Map<string, Samples>() };
      g.service.set(t.name, new Samples());
      groups.set(t.group ?? '', g);
    }
    const failures: string[] = [];
    const fail = (msg: string) => {
      if (failures.length < 5) failures.push(msg);
    };
    let ok = 0;
    let non2xx = 0;
    let errors = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    let done = 0;
    let lastEnd = 0;
    const open = new Set<http.ClientRequest>();
    let connections = 0;
    const cpu0 = process.cpuUsage();
    const t0 = nowMs() + 20;

    let allDone: () => void = () => {};
    const finished = new Promise<void>((r) => (allDone = r));
    const settle = (req: http.ClientRequest) => {
      if (!open.delete(req)) return false;
      inFlight--;
      done++;
      lastEnd = nowMs();
      if (done === count) allDone();
      return true;
    };

    const send = (k: number) => {
      const p = prepared[k % prepared.length]!;
      const due = t0 + slotOffsetMs(k, rate);
      const sent = nowMs();
      sendLag.push(Math.max(0, sent - due));
      const req = p.mod.request({ agent: p.agent, hostname: p.hostname, port: p.port, method: p.t.method, path: p.t.path, headers: p.headers }, (res) => {
        const status = res.statusCode ?? 0;
        const good = status >= 200 && status < 300;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          if (!good) chunks.push(c);
        });
        res.on('end', () => {
          const end = nowMs();
          if (!settle(req)) return;
          if (good) {
            ok++;
            const g = groups.get(p.group)!;
            g.ok++;
            g.latency.push(end - due);
            g.service.get(p.t.name)!.push(end - sent);
          } else {
            non2xx++;
            fail(`${p.t.name}: ${status} ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}`);
          }
        });
        res.on('error', (e) => {
          if (settle(req)) {
            errors++;
            fail(`${p.t.name}: ${e.message}`);
          }
        });
      });
      open.add(req);
      req.once('socket', (s) => {
        if (!this.seen.has(s)) {
          this.seen.add(s);
          connections++;
        }
      });
      inFlight++;
      if (inFlight > maxInFlight) maxInFlight = inFlight;
      req.on('error', (e) => {
        if (settle(req)) {
          errors++;
          fail(`${p.t.name}: ${e.message}`);
        }
      });
      req.end(p.t.body);
    };

    if (count === 0) allDone();
    let next = 0;
    const clock = new Worker(CLOCK_WORKER, { eval: true, execArgv: [], workerData: { t0, rate, count } });
    clock.on('message', (last: number) => {
      while (next <= last) send(next++);
    });
    const clockExit = new Promise<void>((resolve, reject) => {
      clock.once('error', reject);
      clock.once('exit', () => resolve());
    });
    await clockExit;
    if (next < count) throw new Error(`open loop: the clock stopped at slot ${next} of ${count}`);

    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => (timer = setTimeout(r, durationMs - (nowMs() - t0) + drainMs)));
    await Promise.race([finished, deadline]);
    clearTimeout(timer);
    for (const req of [...open]) {
      settle(req);
      errors++;
      fail(`unanswered ${drainMs} ms after the window`);
      req.destroy();
    }
    const span = Math.max(lastEnd - t0, durationMs);
    const byGroup = new Map<string, GroupResult>(
      [...groups].map(([name, g]) => [name, { ok: g.ok, latency: g.latency.sorted(), serviceByTarget: new Map([...g.service].map(([n, x]) => [n, x.sorted()])) }]),
    );
    const names = [...new Set(targets.map((t) => t.name))];
    const cpu = process.cpuUsage(cpu0);
    return {
      rate,
      durationMs,
      scheduled: count,
      ok,
      non2xx,
      errors,
      failures,
      latency: concatSorted([...byGroup.values()].map((g) => g.latency)),
      sendLag: sendLag.sorted(),
      serviceByTarget: new Map(names.map((n) => [n, concatSorted([...byGroup.values()].flatMap((g) => g.serviceByTarget.get(n) ?? []))])),
      byGroup,
      achievedRate: (1000 * done) / span,
      maxInFlight,
      connections,
      generatorCpuPct: (100 * (cpu.user + cpu.system)) / 1000 / (nowMs() - t0),
    };
  }

  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }
}
