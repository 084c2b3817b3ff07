import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYLESS_BIN, serveKeyless, type ServedKeyless } from '../../support/cli.js';
import { runChild } from '../../support/child.js';
import { serverIdFor } from '../../../src/isolation/names.js';
import { isolationUnavailableReason } from '../../../src/isolation/system.js';
import { prerequisites } from '../../compat/az/support/az.js';

/** Every Keyless-named object of one server: namespaces, /etc/netns dirs, veths, session records. */
function objectsOf(serverId: string): string[] {
  const ls = (d: string) => {
    try {
      return fs.readdirSync(d);
    } catch {
      return [];
    }
  };
  return [
    ...ls('/run/netns').filter((n) => n.startsWith(`keyless-${serverId}-`)).map((n) => `netns:${n}`),
    ...ls('/etc/netns').filter((n) => n.startsWith(`keyless-${serverId}-`)).map((n) => `etc:${n}`),
    ...ls('/sys/class/net').filter((n) => n.startsWith(`kl${serverId}`)).map((n) => `link:${n}`),
    ...ls('/run/keyless/isolation').filter((n) => n.startsWith(`session-${serverId}-`)).map((n) => `record:${n}`),
  ];
}

async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `keyless run --isolated --vm vm -- sleep 60` in the background, resolved once its namespace exists. */
async function startSleeper(k: ServedKeyless, vm: string): Promise<{ cli: ChildProcess; exited: Promise<number | null>; netns: string }> {
  const sid = serverIdFor(k.ready.tenantId);
  const before = new Set(objectsOf(sid));
  const cli = spawn(process.execPath, [KEYLESS_BIN, 'run', '--isolated', '--vm', vm, '--', 'sleep', '60'], { stdio: 'ignore', env: { ...process.env, KEYLESS_DATA_DIR: k.dataDir } });
  const exited = new Promise<number | null>((r) => cli.once('exit', (code, sig) => r(code ?? (sig ? -1 : null))));
  let netns = '';
  await until(() => {
    netns = objectsOf(sid).find((o) => o.startsWith('netns:') && !before.has(o))?.slice(6) ?? '';
    // Ready once the rules are in: the namespace side is the last step.
    return netns !== '' && fs.existsSync(`/etc/netns/${netns}/hosts`) && runNsHasRules(netns);
  });
  return { cli, exited, netns };
}

function runNsHasRules(netns: string): boolean {
  try {
    return execFileSync('ip', ['netns', 'exec', netns, 'nft', 'list', 'tables'], { encoding: 'utf8' }).includes('keyless_vm');
  } catch {
    return false;
  }
}

/**
 * The isolation lifecycle without az: exit codes, cleanup on normal exit, SIGINT, SIGKILL (swept by the next
 * CLI), a server restart (swept at start), the only-this-VM rule, and the error without root.
 */
describe.skipIf(prerequisites('isolated VMs', isolationUnavailableReason()).skip)('isolated VMs: lifecycle and cleanup guarantees', { timeout: 60_000 }, () => {
  let k: ServedKeyless;
  let sid: string;
  const cli = (args: string[]) => k.cli(args);

  beforeAll(async () => {
    k = await serveKeyless();
    sid = serverIdFor(k.ready.tenantId);
    fs.writeFileSync(`${k.dataDir}/env.yaml`, ['resourceGroups:', '  iso-rg:', '    virtualMachines:', '      vm1: { identity: { systemAssigned: true } }', '      vm2: { identity: { systemAssigned: true } }', ''].join('\n'));
    const r = await cli(['apply', `${k.dataDir}/env.yaml`]);
    expect(r.code, r.stderr).toBe(0);
  }, 90_000);
  afterAll(async () => k?.stop());

  it('1 (negative). --isolated needs --vm, exit 2', async () => {
    const r = await cli(['run', '--isolated', '--workload-identity', 'x', '--subject', 's', '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--isolated runs a command as a VM: pass --vm');
  });

  it('2. the command’s exit code comes back, and nothing is left afterwards', async () => {
    const r = await cli(['run', '--isolated', '--vm', 'vm1', '--', 'sh', '-c', 'exit 7']);
    expect(r.code, r.stderr).toBe(7);
    expect(objectsOf(sid)).toEqual([]);
  });

  it('3. only this VM’s IMDS: 169.254.169.254 answers as vm1; vm2’s listener is unreachable from vm1', async () => {
    const env2 = JSON.parse((await cli(['env', '--vm', 'vm2', '--format', 'json'])).stdout) as Record<string, string>;
    const vm2 = new URL(env2['AZURE_POD_IDENTITY_AUTHORITY_HOST']!);
    const r = await cli([
      'run', '--isolated', '--vm', 'vm1', '--', 'sh', '-c',
      // $1/$2: vm2's listener, passed as arguments (never spliced into the script).
      'curl -s -H Metadata:true "http://169.254.169.254/metadata/instance/compute/name?api-version=2021-02-01&format=text"; echo; ' +
        'curl -s -m 3 -o /dev/null -H Metadata:true "http://$1:$2/metadata/instance?api-version=2021-02-01"; echo $?; ' +
        'curl -s -m 3 -o /dev/null "http://169.254.64.1:$2/"; echo $?',
      'sh', vm2.hostname, vm2.port,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const [name, direct, viaLink] = r.stdout.trim().split('\n');
    expect(name).toBe('vm1');
    expect(Number(direct)).not.toBe(0);
    expect(Number(viaLink)).not.toBe(0);
  });

  it('4. SIGINT to the CLI: the child gets it, the CLI exits 130 and removes everything', async () => {
    const s = await startSleeper(k, 'vm1');
    expect(objectsOf(sid).length).toBeGreaterThanOrEqual(4);
    s.cli.kill('SIGINT');
    expect(await s.exited).toBe(130);
    expect(objectsOf(sid)).toEqual([]);
  });

  it('5. SIGKILL leaves a session behind; `keyless vm cleanup` (and every later CLI run) sweeps it', async () => {
    const s = await startSleeper(k, 'vm1');
    const pids = execFileSync('ip', ['netns', 'pids', s.netns], { encoding: 'utf8' }).trim().split('\n').map(Number);
    s.cli.kill('SIGKILL');
    await s.exited;
    for (const p of pids) process.kill(p, 'SIGKILL');
    expect(objectsOf(sid).length).toBeGreaterThanOrEqual(4);
    const r = await cli(['vm', 'cleanup']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`removed ${s.netns.slice('keyless-'.length)}`);
    expect(objectsOf(sid)).toEqual([]);
  });

  it('6. a server restart sweeps sessions made against the previous run (their server is gone)', async () => {
    const s = await startSleeper(k, 'vm1');
    const oldSid = sid;
    await k.stop();
    k = await serveKeyless();
    sid = serverIdFor(k.ready.tenantId);
    await until(() => objectsOf(oldSid).length === 0, 15_000);
    // The CLI still waits on its child; it ends cleanly and finds nothing left to remove.
    s.cli.kill('SIGTERM');
    expect(await s.exited).toBe(143);
    expect(objectsOf(oldSid)).toEqual([]);
  });

  it('7 (negative). without root the CLI says what is missing, exit 2', async () => {
    const r = await runChild('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, KEYLESS_BIN, 'vm', 'cleanup'], { HOME: '/tmp' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/need root/);
  });
});
