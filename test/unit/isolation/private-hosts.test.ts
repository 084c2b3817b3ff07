import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runChild } from '../../support/child.js';
import {
  createPrivateHosts,
  keylessAddress,
  nsswitchHostsSources,
  PRIVATE_HOSTS_ALTERNATIVES,
  privateHostsCaveat,
  privateHostsCommand,
  privateHostsRefusal,
  privateHostsText,
  sweepPrivateHosts,
  type PrivateHostsFacts,
} from '../../../src/isolation/private-hosts.js';

const ABLE: PrivateHostsFacts = { platform: 'linux', uid: 0, capSysAdmin: true, missingTools: [], mountNamespaces: true, hostsFile: true, nsswitchFiles: true };
const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-ph-unit-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('--private-hosts: when it may run', () => {
  it('runs as root on Linux with the capability, the tools and a hosts file (and with unknown capabilities or no nsswitch line)', () => {
    expect(privateHostsRefusal(ABLE)).toBeUndefined();
    expect(privateHostsRefusal({ ...ABLE, capSysAdmin: undefined, nsswitchFiles: undefined })).toBeUndefined();
  });

  it('refuses a non-root user, naming sudo and every alternative (keyless hosts, libnss-myhostname, systemd-resolved)', () => {
    const r = privateHostsRefusal({ ...ABLE, uid: 1000 });
    expect(r).toMatch(/^--private-hosts needs root .*run it with sudo; /);
    expect(r).toContain("'sudo keyless hosts'");
    expect(r).toContain('libnss-myhostname');
    expect(r).toContain('systemd-resolved');
    expect(r!.endsWith(PRIVATE_HOSTS_ALTERNATIVES)).toBe(true);
  });

  it('refuses every other missing piece with the piece named and the alternatives attached', () => {
    const cases: [Partial<PrivateHostsFacts>, RegExp][] = [
      [{ platform: 'darwin', uid: 501 }, /Linux mount namespace \(this is darwin\)/],
      [{ platform: 'win32', uid: undefined }, /this is win32/],
      [{ capSysAdmin: false }, /CAP_SYS_ADMIN.*--cap-add SYS_ADMIN/],
      [{ mountNamespaces: false }, /\/proc\/self\/ns\/mnt is missing/],
      [{ missingTools: ['unshare', 'mount'] }, /needs unshare, mount: apt-get install util-linux mount/],
      [{ hostsFile: false }, /there is none/],
      [{ nsswitchFiles: false }, /nsswitch\.conf has none/],
    ];
    for (const [facts, message] of cases) {
      const r = privateHostsRefusal({ ...ABLE, ...facts });
      expect(r, JSON.stringify(facts)).toMatch(message);
      expect(r).toContain(PRIVATE_HOSTS_ALTERNATIVES);
    }
  });
});

describe('--private-hosts: nsswitch', () => {
  it('reads the sources of the hosts line, without actions and comments', () => {
    const conf = 'passwd: files\n# hosts: dns\nhosts:          files mdns4_minimal [NOTFOUND=return] dns myhostname # local\n';
    expect(nsswitchHostsSources(conf)).toEqual(['files', 'mdns4_minimal', 'dns', 'myhostname']);
    expect(nsswitchHostsSources('passwd: files\n')).toBeUndefined();
    expect(nsswitchHostsSources(undefined)).toBeUndefined();
  });

  it('warns only when systemd-resolved is asked before files', () => {
    expect(privateHostsCaveat('hosts: mymachines resolve [!UNAVAIL=return] files myhostname dns\n')).toMatch(/systemd-resolved/);
    expect(privateHostsCaveat('hosts: files resolve [!UNAVAIL=return] dns\n')).toBeUndefined();
    expect(privateHostsCaveat('hosts: files dns\n')).toBeUndefined();
    expect(privateHostsCaveat(undefined)).toBeUndefined();
  });
});

describe('--private-hosts: the file', () => {
  it('is the real file plus one Keyless block (an old one replaced), invalid names dropped', () => {
    const real = '127.0.0.1 localhost\n::1 localhost\n# BEGIN keyless\n127.0.0.1 old.vault.keyless.test\n# END keyless\n10.0.0.1 db\n';
    const text = privateHostsText(real, ['kv1.vault.keyless.test', 'management.keyless.test', 'bad name', 'KV1.vault.keyless.test'], '127.0.0.1');
    expect(text).toContain('127.0.0.1 localhost\n::1 localhost\n');
    expect(text).toContain('10.0.0.1 db\n');
    expect(text).not.toContain('old.vault');
    expect(text).not.toContain('bad name');
    expect(text.match(/# BEGIN keyless/g)).toHaveLength(1);
    expect(text).toContain('# BEGIN keyless\n127.0.0.1 kv1.vault.keyless.test\n127.0.0.1 management.keyless.test\n# END keyless\n');
  });

  it('is written world-readable, under a name carrying its owner, and removed once (twice is harmless)', () => {
    const dir = tmp();
    const real = path.join(dir, 'real-hosts');
    fs.writeFileSync(real, '127.0.0.1 localhost');
    const h = createPrivateHosts({ names: ['kv.vault.azure.test'], address: '127.0.0.2', hostsFile: real, dir });
    expect(path.basename(h.file)).toMatch(new RegExp(`^hosts-${process.pid}-\\d+-[0-9a-f]{8}$`));
    expect(fs.statSync(h.file).mode & 0o777).toBe(0o644);
    expect(fs.readFileSync(h.file, 'utf8')).toContain('127.0.0.1 localhost\n# BEGIN keyless\n127.0.0.2 kv.vault.azure.test\n');
    expect(h.command(['app', '--flag'])).toEqual(expect.arrayContaining(['--mount', '--propagation', 'private', h.file, 'app', '--flag']));
    h.remove();
    h.remove();
    expect(fs.readdirSync(dir)).toEqual(['real-hosts']);
  });

  it('sweeps copies whose CLI is gone, and keeps live ones and foreign files', () => {
    const dir = tmp();
    for (const f of ['hosts-111-500-0000aaaa', 'hosts-222-600-0000bbbb', 'hosts-333-0-0000cccc', 'notes.txt']) fs.writeFileSync(path.join(dir, f), '');
    const asked: [number, string | undefined][] = [];
    const removed = sweepPrivateHosts(dir, (pid, start) => {
      asked.push([pid, start]);
      return pid === 222;
    });
    expect(removed.sort()).toEqual(['hosts-111-500-0000aaaa', 'hosts-333-0-0000cccc']);
    expect(fs.readdirSync(dir).sort()).toEqual(['hosts-222-600-0000bbbb', 'notes.txt']);
    // A start time of 0 means "unknown": only the pid is checked.
    expect(asked).toContainEqual([333, undefined]);
    expect(sweepPrivateHosts(path.join(dir, 'missing'))).toEqual([]);
  });
});

describe('--private-hosts: the launch', () => {
  it('maps the names to where Keyless is advertised: loopback for localhost or its own names, the literal for an IP', async () => {
    expect(await keylessAddress('https://localhost:8443', 'keyless.test')).toBe('127.0.0.1');
    expect(await keylessAddress('https://management.azure.test:8443', 'azure.test')).toBe('127.0.0.1');
    expect(await keylessAddress('https://10.1.2.3:8443', 'azure.test')).toBe('10.1.2.3');
  });

  it('exits 125 with a clear message when the bind mount fails, and never runs the command', async () => {
    const dir = tmp();
    // Stand-ins: an "unshare" that drops its options up to `--`, and a mount that fails.
    const unshare = path.join(dir, 'unshare');
    fs.writeFileSync(unshare, '#!/bin/sh\nwhile [ "$1" != "--" ]; do shift; done; shift; exec "$@"\n', { mode: 0o755 });
    const marker = path.join(dir, 'ran');
    const [cmd, ...args] = privateHostsCommand(path.join(dir, 'hosts-x'), ['touch', marker], { unshare, mount: '/bin/false', sh: '/bin/sh' });
    const r = await runChild(cmd, args, {});
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('keyless: --private-hosts: cannot bind-mount');
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('passes the command and its arguments through verbatim (no shell splicing)', async () => {
    const dir = tmp();
    const unshare = path.join(dir, 'unshare');
    fs.writeFileSync(unshare, '#!/bin/sh\nwhile [ "$1" != "--" ]; do shift; done; shift; exec "$@"\n', { mode: 0o755 });
    const [cmd, ...args] = privateHostsCommand(path.join(dir, 'hosts-x'), ['printf', '%s|', 'a b', '$(id)', '"; exit 9'], { unshare, mount: '/bin/true', sh: '/bin/sh' });
    const r = await runChild(cmd, args, {});
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('a b|$(id)|"; exit 9|');
  });
});
