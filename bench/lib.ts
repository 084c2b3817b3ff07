import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';

export interface Started {
  info: any;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts a fixture in its own process (the load generator must not share the server's event loop). */
export function startFixture(script: string, env: Record<string, string> = {}, opts: { ipc?: boolean; nodeArgs?: string[] } = {}): Promise<Started> {
  const profile = process.env['BENCH_PROFILE_DIR'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_PROFILE_DIR']}`] : [];
  const child = spawn(process.execPath, [...profile, ...(opts.nodeArgs ?? []), '--import', 'tsx', script], {
    stdio: ['ignore', 'pipe', 'inherit', ...(opts.ipc ? (['ipc'] as const) : [])],
    env: { ...process.env, ...env },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        resolve({
          info: JSON.parse(line),
          child,
          stop: () =>
            new Promise((r) => {
              child.once('exit', () => r());
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (c) => reject(new Error(`${script} exited with ${c}`)));
  });
}

export interface LoadResult {
  rps: number;
  p50ms: number;
  p99ms: number;
  non2xx: number;
  errors: number;
}

export async function load(opts: autocannon.Options): Promise<LoadResult> {
  const r = await autocannon({ connections: 16, duration: 5, ...opts });
  return { rps: r.requests.average, p50ms: r.latency.p50, p99ms: r.latency.p99, non2xx: r.non2xx, errors: r.errors };
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${os.type()} ${os.release()}`;
}

/** `--name value` from argv, as a number; `dflt` when absent. */
export function numArg(name: string, dflt: number, argv: readonly string[] = process.argv): number {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(argv[i + 1]);
  if (!Number.isFinite(v)) throw new Error(`--${name} needs a number`);
  return v;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/**
 * HTTP(S) for fixtures and checks. `connectTo` dials another address than the URL's host (names under the DNS
 * suffix need not resolve on the bench machine) while Host and SNI keep the name.
 */
export function request(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; ca?: string | Buffer; connectTo?: string } = {}): Promise<Reply> {
  const u = new URL(url);
  const secure = u.protocol === 'https:';
  const mod = secure ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      {
        method: opts.method ?? 'GET',
        hostname: opts.connectTo ?? u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        headers: { host: u.host, ...opts.headers },
        ...(secure ? { ca: opts.ca, ...(net.isIP(u.hostname) ? {} : { servername: u.hostname }) } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** Resident set size of a process in MB (Linux /proc; `ps` elsewhere). */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) / 1024;
}

/** Sends a message to a fixture over IPC and waits for its answer (fixtures started with `ipc: true`). */
export function ask(child: ChildProcess, msg: Record<string, unknown>): Promise<any> {
  return new Promise((resolve) => {
    child.once('message', resolve);
    child.send(msg);
  });
}

export const fmt = (x: number, digits = 0): string => (Number.isFinite(x) ? x.toFixed(digits) : '–');

export interface CaseResult {
  rps: number;
  p99ms: number;
  /** Per-run req/s, for the reader to judge the spread. */
  runs: number[];
}

/**
 * Runs every case once per round, `runs` rounds (so drift hits all alike), `seconds` each; medians per case.
 * Any non-2xx answer or socket error fails the bench: a fast error path must not pass for throughput.
 */
export async function compareLoads(cases: Record<string, autocannon.Options>, runs: number, seconds: number): Promise<Record<string, CaseResult>> {
  const rps: Record<string, number[]> = {};
  const p99: Record<string, number[]> = {};
  for (let r = 0; r < runs; r++) {
    for (const [name, opts] of Object.entries(cases)) {
      const res = await load({ duration: seconds, ...opts });
      if (res.non2xx || res.errors) throw new Error(`${name}: ${res.non2xx} non-2xx answers, ${res.errors} errors`);
      (rps[name] ??= []).push(res.rps);
      (p99[name] ??= []).push(res.p99ms);
    }
  }
  return Object.fromEntries(Object.keys(cases).map((n) => [n, { rps: median(rps[n]!), p99ms: median(p99[n]!), runs: rps[n]! }]));
}

/** A table row: case, req/s, p99, ratio against `base`, goal. */
export function loadRow(name: string, r: CaseResult, base?: CaseResult, baseName = 'baseline', goal = ''): string {
  const ratio = base ? `${(r.rps / base.rps).toFixed(2)}× ${baseName}` : '1.00';
  return `| ${name} | ${fmt(r.rps)} | ${fmt(r.p99ms, 1)} | ${ratio} | ${goal} | ${r.runs.map((x) => fmt(x)).join(', ')} |`;
}
export const LOAD_TABLE_HEAD = ['| case | req/s (median) | p99 ms (median) | ratio | goal | runs (req/s) |', '|---|---:|---:|---:|---:|---|'];

/** A throwaway TLS directory with a server certificate from Keyless's own PKI (both sides pay the same TLS). */
export async function benchTlsDir(): Promise<{ dir: string; cert: string; key: string; dispose(): void }> {
  const { ensurePki } = await import('../src/pki/index.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-bench-tls-'));
  await ensurePki({ dir, dnsSuffix: 'keyless.localhost', extraDnsNames: ['localhost', '127.0.0.1'] });
  return { dir, cert: path.join(dir, 'server.crt'), key: path.join(dir, 'server.key'), dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
