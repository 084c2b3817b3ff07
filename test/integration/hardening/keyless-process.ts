import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { KEYLESS_BIN } from '../../support/cli.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');

/**
 * The program that runs `keyless serve`: by default src/cli/main.ts bundled once with esbuild, because a crash
 * test restarts the server dozens of times and tsx's per-module loader hooks triple every start (≈4 s → ≈1.5 s on
 * a busy 2-core runner). The code is the same; only module loading differs. KEYLESS_HARDENING_TSX=1 runs
 * bin/keyless.js (tsx) instead.
 *
 * The bundle sits at `<dir>/src/cli/main.mjs` next to symlinks, so the paths the sources resolve from
 * import.meta.url (`../../data/*.json`) and bare package imports land where they do in the checkout.
 */
export async function keylessEntry(): Promise<{ script: string; dispose(): void }> {
  if (process.env['KEYLESS_HARDENING_TSX'] === '1') return { script: KEYLESS_BIN, dispose: () => undefined };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-bundle-'));
  fs.mkdirSync(path.join(dir, 'src/cli'), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'data'), path.join(dir, 'data'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  const script = path.join(dir, 'src/cli/main.mjs');
  await build({
    entryPoints: [path.join(ROOT, 'src/cli/main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: script,
    logLevel: 'error',
  });
  return { script, dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface Ready {
  pid: number;
  tenantId: string;
  subscriptionId: string;
  adminFile: string;
  adminClientId: string;
  endpoints: { resourceManager: string; authority: string; armAudience: string; issuer: string; jwksUri: string };
}

export interface KeylessProcess {
  child: ChildProcess;
  /** Resolves with the `--json` ready line; rejects if the process exits first. */
  ready: Promise<Ready>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
}

// A failed or timed-out test must not leave servers running on the shared machine.
const live = new Set<ChildProcess>();
export function killAll(): void {
  for (const c of live) c.kill('SIGKILL');
}
process.once('exit', killAll);

/** `keyless serve --json` on ephemeral ports with the test run's shared CA, in its own process. */
export function spawnKeyless(script: string, args: string[], env: Record<string, string> = {}): KeylessProcess {
  const child = spawn(
    process.execPath,
    [script, 'serve', '--json', '--port', '0', '--imds-port', '0', '--msi-port', '0', '--tls-dir', process.env['KEYLESS_TEST_TLS_DIR']!, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KEYLESS_LOG_LEVEL: 'warn', ...env } },
  );
  live.add(child);
  child.once('exit', () => live.delete(child));
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`keyless serve not ready after 60 s\nstderr: ${err}`)), 60_000);
    const onData = () => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve(JSON.parse(line) as Ready);
    };
    child.stdout!.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`keyless serve exited (code ${code}, signal ${signal}) before it was ready\nstderr: ${err}`));
    });
  });
  // A kill before ready leaves `ready` rejected on purpose; nobody may be awaiting it.
  ready.catch(() => undefined);
  return { child, ready, exited, stdout: () => out, stderr: () => err };
}

/** SIGKILL and wait for the process to be gone (its listeners and file handles released). */
export async function crash(p: KeylessProcess): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await p.exited;
}

/** SIGTERM (graceful stop) and wait. */
export async function stopGracefully(p: KeylessProcess): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await p.exited;
}

/** mulberry32: a small seeded generator so a failing kill schedule can be replayed with its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
