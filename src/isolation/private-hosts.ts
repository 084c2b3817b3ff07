import { randomBytes } from 'node:crypto';
import dns from 'node:dns/promises';
import fs from 'node:fs';
import path from 'node:path';
import { isHostName, replaceHostsBlock } from './hosts.js';
import { isProcessAlive, processStartTime } from './state.js';
import { effectiveCapabilities, CAP_SYS_ADMIN, which } from './system.js';

/**
 * `keyless run --private-hosts`: the child runs in its own mount namespace where /etc/hosts is a bind mount of
 * a copy of the real one plus Keyless's names. Nothing outside the child sees the names, the real file is never
 * written, and the copy is removed when the child exits. The network is the host's (unlike an isolated VM).
 */

export const DEFAULT_PRIVATE_HOSTS_DIR = '/run/keyless/private-hosts';

export const privateHostsDir = (): string => process.env['KEYLESS_PRIVATE_HOSTS_DIR'] || DEFAULT_PRIVATE_HOSTS_DIR;

/** What decides whether a private hosts file can be set up here; gathered by privateHostsFacts(). */
export interface PrivateHostsFacts {
  platform: NodeJS.Platform;
  /** undefined where there are no uids (Windows). */
  uid: number | undefined;
  /** Whether CapEff holds CAP_SYS_ADMIN (mount namespaces, bind mounts); undefined when unknown. */
  capSysAdmin: boolean | undefined;
  /** Tools the launch needs that are not on PATH. */
  missingTools: string[];
  /** /proc/self/ns/mnt exists. */
  mountNamespaces: boolean;
  /** /etc/hosts exists: a bind mount needs something to cover. */
  hostsFile: boolean;
  /** The `hosts:` line of /etc/nsswitch.conf lists `files` (undefined when there is no such line: glibc's default has it). */
  nsswitchFiles: boolean | undefined;
}

/** Where the names can come from instead; every refusal names them, so no one is left with nothing. */
export const PRIVATE_HOSTS_ALTERNATIVES =
  "or make the names resolve for every process instead: 'sudo keyless hosts' writes them into /etc/hosts; " +
  'with the default --dns-suffix keyless.localhost, libnss-myhostname (apt-get install libnss-myhostname) or ' +
  'systemd-resolved resolve every *.localhost name to loopback (docs/dns.md)';

const TOOLS: { cmd: string; pkg: string }[] = [
  { cmd: 'unshare', pkg: 'util-linux' },
  { cmd: 'mount', pkg: 'mount' },
  { cmd: 'sh', pkg: 'dash' },
];

/** Why --private-hosts cannot work here (with the alternatives), or undefined when it can. Pure: tests feed it facts. */
export function privateHostsRefusal(f: PrivateHostsFacts): string | undefined {
  const why = (reason: string) => `--private-hosts ${reason}; ${PRIVATE_HOSTS_ALTERNATIVES}`;
  if (f.platform !== 'linux') return why(`needs a Linux mount namespace (this is ${f.platform})`);
  if (f.uid !== 0) return why('needs root (a mount namespace and a bind mount over /etc/hosts): run it with sudo');
  if (f.capSysAdmin === false) return why('needs CAP_SYS_ADMIN (mount namespaces and bind mounts); in a container add --cap-add SYS_ADMIN');
  if (!f.mountNamespaces) return why('needs mount namespaces, and this kernel has none (/proc/self/ns/mnt is missing)');
  if (f.missingTools.length) {
    const pkgs = TOOLS.filter((t) => f.missingTools.includes(t.cmd)).map((t) => t.pkg);
    return why(`needs ${f.missingTools.join(', ')}: apt-get install ${pkgs.join(' ')}`);
  }
  if (!f.hostsFile) return why('covers /etc/hosts, and there is none (a bind mount needs a file to cover)');
  if (f.nsswitchFiles === false) return why("is read through the 'files' source, and the hosts: line of /etc/nsswitch.conf has none");
  return undefined;
}

/** The facts of this machine and process. Cheap: no commands are run. */
export function privateHostsFacts(): PrivateHostsFacts {
  const caps = effectiveCapabilities();
  return {
    platform: process.platform,
    uid: typeof process.getuid === 'function' ? process.getuid() : undefined,
    capSysAdmin: caps === undefined ? undefined : (caps & (1n << BigInt(CAP_SYS_ADMIN))) !== 0n,
    missingTools: TOOLS.filter((t) => !which(t.cmd)).map((t) => t.cmd),
    mountNamespaces: fs.existsSync('/proc/self/ns/mnt'),
    hostsFile: fs.existsSync('/etc/hosts'),
    nsswitchFiles: nsswitchHostsSources(readOr('/etc/nsswitch.conf'))?.includes('files'),
  };
}

export function privateHostsUnavailableReason(): string | undefined {
  return privateHostsRefusal(privateHostsFacts());
}

/** The sources of the `hosts:` line, in order, without `[action]` terms; undefined when the line is absent. */
export function nsswitchHostsSources(text: string | undefined): string[] | undefined {
  const line = text?.split('\n').find((l) => /^\s*hosts\s*:/.test(l));
  if (line === undefined) return undefined;
  return line
    .replace(/#.*/, '')
    .replace(/^\s*hosts\s*:/, '')
    .replace(/\[[^\]]*\]/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

/**
 * A warning when the names may still not resolve: systemd-resolved or nscd answer from the host's view of
 * /etc/hosts, not the bind mount, so a source asked before `files` can hide the private entries.
 */
export function privateHostsCaveat(nsswitch: string | undefined): string | undefined {
  const sources = nsswitchHostsSources(nsswitch) ?? [];
  const files = sources.indexOf('files');
  const before = sources.slice(0, files < 0 ? 0 : files).filter((s) => s === 'resolve');
  if (before.length) return "/etc/nsswitch.conf asks systemd-resolved ('resolve') before 'files': glibc lookups may not see the private entries (Go, and tools reading /etc/hosts, do)";
  return undefined;
}

/** The private copy: the real file (minus any Keyless block `keyless hosts` left there) plus this Keyless's names. */
export function privateHostsText(current: string, names: string[], address: string): string {
  const header = '# Private /etc/hosts of a `keyless run --private-hosts` command: the real file plus the Keyless block.\n';
  return header + replaceHostsBlock(current, names.filter(isHostName), address);
}

/**
 * The IPv4 address the names should map to: where the advertised host (resourceManager's host) is. Loopback
 * when it is `localhost` or itself one of the names that do not resolve yet.
 */
export async function keylessAddress(resourceManager: string, dnsSuffix: string): Promise<string> {
  const host = new URL(resourceManager).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return host;
  const suffix = dnsSuffix.toLowerCase();
  if (host === 'localhost' || host === suffix || host.endsWith(`.${suffix}`) || host === '::1') return '127.0.0.1';
  const { address } = await dns.lookup(host, { family: 4 });
  return address;
}

export interface PrivateHosts {
  /** The generated file (bind-mounted over /etc/hosts in the child's mount namespace). */
  file: string;
  /** argv that runs a command in a new mount namespace with the private /etc/hosts, then execs it (same pid). */
  command(argv: string[]): [string, ...string[]];
  /** Removes the file; safe to call twice, synchronous so it can run from a process 'exit' handler. */
  remove(): void;
}

/**
 * Inside the namespace: bind the file, then exec the command, so the pid the CLI waits on and signals is the
 * command's own and its exit status (or signal) is the command's. The file and argv are positional
 * parameters, never spliced into the script.
 */
const LAUNCH_SCRIPT =
  'm=$1; f=$2; shift 2; "$m" --bind "$f" /etc/hosts || { echo "keyless: --private-hosts: cannot bind-mount $f over /etc/hosts" >&2; exit 125; }; exec "$@"';

/** Absolute paths, so the child's PATH (which the user controls) cannot pick another mount or shell. */
export function privateHostsCommand(file: string, argv: string[], tools: { unshare: string; mount: string; sh: string }): [string, ...string[]] {
  // --propagation private: the bind mount must not leak back into the host's mount namespace.
  return [tools.unshare, '--mount', '--propagation', 'private', '--', tools.sh, '-c', LAUNCH_SCRIPT, 'keyless', tools.mount, file, ...argv];
}

/** Writes the private hosts file for this process (removing copies whose CLI is gone) and returns how to use it. */
export function createPrivateHosts(input: { names: string[]; address: string; hostsFile?: string; dir?: string }): PrivateHosts {
  const dir = input.dir ?? privateHostsDir();
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  sweepPrivateHosts(dir);
  const current = fs.readFileSync(input.hostsFile ?? '/etc/hosts', 'utf8');
  const file = path.join(dir, `hosts-${process.pid}-${processStartTime(process.pid) ?? '0'}-${randomBytes(4).toString('hex')}`);
  // World-readable like /etc/hosts: the command may drop privileges (su, setpriv) and still resolve.
  fs.writeFileSync(file, privateHostsText(current, input.names, input.address), { flag: 'wx', mode: 0o644 });
  const tools = { unshare: which('unshare') ?? 'unshare', mount: which('mount') ?? 'mount', sh: which('sh') ?? '/bin/sh' };
  let removed = false;
  return {
    file,
    command: (argv) => privateHostsCommand(file, argv, tools),
    remove() {
      if (removed) return;
      removed = true;
      fs.rmSync(file, { force: true });
    },
  };
}

const FILE = /^hosts-(\d+)-(\d+)-[0-9a-f]{8}$/;

/** Removes copies left by a CLI that was killed (SIGKILL skips its exit handler); returns the names removed. */
export function sweepPrivateHosts(dir = privateHostsDir(), alive: (pid: number, start?: string) => boolean = isProcessAlive): string[] {
  let files: string[];
  try {
    files = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const f of files) {
    const m = FILE.exec(f);
    if (!m) continue;
    if (alive(Number(m[1]), m[2] === '0' ? undefined : m[2])) continue;
    fs.rmSync(path.join(dir, f), { force: true });
    removed.push(f);
  }
  return removed;
}

function readOr(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
