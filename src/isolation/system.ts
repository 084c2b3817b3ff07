import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Isolation cannot be set up here (not Linux, not root, a tool missing): the message says what to do. */
export class IsolationUnavailableError extends Error {
  override name = 'IsolationUnavailableError';
}

export class IsolationCommandError extends Error {
  override name = 'IsolationCommandError';
  constructor(
    readonly command: string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`${command.join(' ')} failed (${code}): ${stderr.trim() || 'no output'}`);
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a tool with an argument array (no shell), optionally feeding stdin; rejects on a non-zero exit unless allowed. */
export function run(cmd: string, args: string[], opts: { input?: string; allowFailure?: boolean } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: toolEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 && !opts.allowFailure) reject(new IsolationCommandError([cmd, ...args], code, stderr));
      else resolve({ code, stdout, stderr });
    });
    if (child.stdin) {
      // A tool that fails early closes its stdin; its exit status tells the story, not EPIPE.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
  });
}

/** The synchronous twin, for the last-chance cleanup in a process 'exit' handler. */
export function runSync(cmd: string, args: string[]): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: toolEnv(), timeout: 10_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** ip, nft and sysctl live in /usr/sbin, which a non-login root shell may not have on PATH. */
function toolEnv(): NodeJS.ProcessEnv {
  const p = process.env['PATH'] ?? '';
  const extra = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'].filter((d) => !p.split(':').includes(d));
  return { ...process.env, PATH: [p, ...extra].filter(Boolean).join(':'), LC_ALL: 'C' };
}

export function which(cmd: string): string | undefined {
  const dirs = (toolEnv()['PATH'] ?? '').split(':').filter(Boolean);
  for (const d of dirs) {
    const f = path.join(d, cmd);
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return f;
    } catch {
      // not here
    }
  }
  return undefined;
}

export const REQUIRED_TOOLS: { cmd: string; pkg: string }[] = [
  { cmd: 'ip', pkg: 'iproute2' },
  { cmd: 'nft', pkg: 'nftables' },
  { cmd: 'sysctl', pkg: 'procps' },
];

/** Why isolation cannot run here, or undefined when it can. Cheap: no commands are run. */
export function isolationUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return `isolated VMs need Linux network namespaces (this is ${process.platform})`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return 'isolated VMs need root (network namespaces, veth links and nftables rules): run it with sudo';
  }
  const missing = REQUIRED_TOOLS.filter((t) => !which(t.cmd));
  if (missing.length) return `isolated VMs need ${missing.map((t) => t.cmd).join(', ')}: apt-get install ${missing.map((t) => t.pkg).join(' ')}`;
  if (!fs.existsSync('/proc/self/ns/net')) return 'this kernel has no network namespaces (/proc/self/ns/net is missing)';
  const caps = effectiveCapabilities();
  const lacking = [
    [CAP_NET_ADMIN, 'NET_ADMIN'],
    [CAP_SYS_ADMIN, 'SYS_ADMIN'],
  ].filter(([bit]) => caps !== undefined && (caps & (1n << BigInt(bit!))) === 0n);
  if (lacking.length) {
    return `isolated VMs need the ${lacking.map(([, n]) => `CAP_${n}`).join(' and ')} capabilities (namespaces, links, rules, bind mounts); in a container add --cap-add ${lacking.map(([, n]) => n).join(' --cap-add ')}`;
  }
  return undefined;
}

export const CAP_NET_ADMIN = 12;
export const CAP_SYS_ADMIN = 21;

/** CapEff from /proc/self/status: root in a default container is root without these. */
export function effectiveCapabilities(): bigint | undefined {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? BigInt(`0x${m[1]}`) : undefined;
  } catch {
    return undefined;
  }
}

export function requireIsolation(): void {
  const reason = isolationUnavailableReason();
  if (reason) throw new IsolationUnavailableError(reason);
}
