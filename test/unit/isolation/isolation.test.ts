import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { blockAddresses, blockOf, parseIpAddrOutput, pickBlock, POOL_BLOCKS } from '../../../src/isolation/addresses.js';
import { parseNetnsName, parseNftTableName, parseVethName, serverIdFor, sessionNames } from '../../../src/isolation/names.js';
import { hostRuleset, namespaceRuleset } from '../../../src/isolation/rules.js';
import { hostsFile, keylessHostNames, resolvConf } from '../../../src/isolation/hosts.js';
import { isStale } from '../../../src/isolation/cleanup.js';
import { imdsListenerOf, isolatedEnvironment } from '../../../src/isolation/launch.js';
import type { SessionRecord } from '../../../src/isolation/state.js';

describe('isolation names', () => {
  it('derives a stable 6-hex server id from the tenant id, case-insensitively', () => {
    const a = serverIdFor('AD166C08-CC94-4C91-9D6A-C26178CA17F3');
    expect(a).toMatch(/^[0-9a-f]{6}$/);
    expect(serverIdFor('ad166c08-cc94-4c91-9d6a-c26178ca17f3')).toBe(a);
  });

  it('names every object with the Keyless prefix, within the 15-byte interface limit, and parses them back', () => {
    const n = sessionNames('362fbe', '5c79');
    expect(n).toEqual({
      serverId: '362fbe',
      sessionId: '5c79',
      netns: 'keyless-362fbe-5c79',
      vethHost: 'kl362fbe5c79h',
      vethNs: 'kl362fbe5c79n',
      nftTable: 'keyless_362fbe_5c79',
    });
    expect(n.vethHost.length).toBeLessThanOrEqual(15);
    expect(parseNetnsName(n.netns)).toEqual({ serverId: '362fbe', sessionId: '5c79' });
    expect(parseVethName(n.vethHost)).toEqual({ serverId: '362fbe', sessionId: '5c79' });
    expect(parseVethName(n.vethNs)).toEqual({ serverId: '362fbe', sessionId: '5c79' });
    expect(parseNftTableName(n.nftTable)).toEqual({ serverId: '362fbe', sessionId: '5c79' });
  });

  it('does not mistake foreign objects for Keyless ones', () => {
    for (const name of ['eth0', 'klxh', 'keyless-362fbe', 'keyless-362fbe-5c79x', 'docker0', 'kl362fbe5c79x', 'keyless_vm', 'keyless_362fbe']) {
      expect(parseNetnsName(name)).toBeUndefined();
      expect(parseVethName(name)).toBeUndefined();
      expect(parseNftTableName(name)).toBeUndefined();
    }
  });

  it('refuses ids that would put anything but hex into a command or rule', () => {
    expect(() => sessionNames('36;fbe', '5c79')).toThrow();
    expect(() => sessionNames('362fbe', '5c7')).toThrow();
  });
});

describe('link address allocation', () => {
  it('hands out /30 blocks in 169.254.64.0/18: host end .1, namespace end .2', () => {
    expect(blockAddresses(0)).toEqual({ block: 0, host: '169.254.64.1', ns: '169.254.64.2', prefixLength: 30 });
    expect(blockAddresses(1)).toEqual({ block: 1, host: '169.254.64.5', ns: '169.254.64.6', prefixLength: 30 });
    expect(blockAddresses(POOL_BLOCKS - 1)).toEqual({ block: POOL_BLOCKS - 1, host: '169.254.127.253', ns: '169.254.127.254', prefixLength: 30 });
    expect(() => blockAddresses(POOL_BLOCKS)).toThrow(/outside the pool/);
    expect(() => blockAddresses(-1)).toThrow();
  });

  it('never overlaps IMDS (169.254.169.254) or leaves the pool (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: POOL_BLOCKS - 1 }), (b) => {
        const a = blockAddresses(b);
        expect(a.host).toMatch(/^169\.254\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.\d+$/);
        expect(a.host).not.toBe('169.254.169.254');
        expect(blockOf(a.host)).toBe(b);
        expect(blockOf(a.ns)).toBe(b);
      }),
    );
  });

  it('maps foreign addresses to no block', () => {
    expect(blockOf('169.254.169.254')).toBeUndefined();
    expect(blockOf('10.0.0.1')).toBeUndefined();
    expect(blockOf('not an ip')).toBeUndefined();
  });

  it('picks the first free block, wrapping, and fails clearly when the pool is full', () => {
    expect(pickBlock([])).toBe(0);
    expect(pickBlock([0, 1, 3])).toBe(2);
    expect(pickBlock([POOL_BLOCKS - 1], POOL_BLOCKS - 1)).toBe(0);
    expect(() => pickBlock(Array.from({ length: POOL_BLOCKS }, (_, i) => i))).toThrow(/in use/);
  });

  it('reads the addresses in use from `ip -4 -o addr show`', () => {
    const out = [
      '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
      '4: eth0    inet 10.0.2.15/24 brd 10.0.2.255 scope global eth0\\       valid_lft forever preferred_lft forever',
      '8: kl362fbe5c79h    inet 169.254.64.1/30 scope global kl362fbe5c79h\\       valid_lft forever preferred_lft forever',
    ].join('\n');
    expect(parseIpAddrOutput(out)).toEqual(['127.0.0.1', '10.0.2.15', '169.254.64.1']);
  });
});

describe('nftables rules', () => {
  const host = {
    table: 'keyless_362fbe_5c79',
    vethHost: 'kl362fbe5c79h',
    hostAddress: '169.254.64.1',
    imds: { address: '127.77.0.1', port: 33017 },
    keyless: { address: '127.0.0.1', port: 41229 },
  };

  it('host side: 169.254.169.254:80 goes to the VM’s own IMDS listener and the link address to Keyless, nothing else', () => {
    expect(hostRuleset(host)).toBe(
      [
        'table ip keyless_362fbe_5c79 {',
        '  chain prerouting {',
        '    type nat hook prerouting priority -100; policy accept;',
        '    iifname "kl362fbe5c79h" ip daddr 169.254.169.254 tcp dport 80 dnat to 127.77.0.1:33017',
        '    iifname "kl362fbe5c79h" ip daddr 169.254.64.1 tcp dport 41229 dnat to 127.0.0.1:41229',
        '  }',
        '  chain input {',
        '    type filter hook input priority 0; policy accept;',
        '    iifname "kl362fbe5c79h" ct status dnat accept',
        '    iifname "kl362fbe5c79h" meta l4proto tcp reject with tcp reset',
        '    iifname "kl362fbe5c79h" reject',
        '  }',
        '  chain forward {',
        '    type filter hook forward priority 0; policy accept;',
        '    iifname "kl362fbe5c79h" reject',
        '    oifname "kl362fbe5c79h" drop',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('namespace side: loopback connections to the Keyless port leave through the link with the link source address', () => {
    const text = namespaceRuleset({ table: 'keyless_vm', vethNs: 'kl362fbe5c79n', nsAddress: '169.254.64.2', hostAddress: '169.254.64.1', keylessPort: 41229 });
    expect(text).toContain('type nat hook output priority -100; policy accept;');
    expect(text).toContain('ip daddr 127.0.0.0/8 tcp dport 41229 dnat to 169.254.64.1:41229');
    expect(text).toContain('oifname "kl362fbe5c79n" ip saddr 127.0.0.0/8 snat to 169.254.64.2');
  });

  it('refuses anything that is not a plain token (no rule injection)', () => {
    expect(() => hostRuleset({ ...host, vethHost: 'eth0" accept; #' })).toThrow(/interface/);
    expect(() => hostRuleset({ ...host, table: 'x; flush ruleset' })).toThrow(/table/);
    expect(() => hostRuleset({ ...host, imds: { address: '127.77.0.1 accept', port: 80 } })).toThrow(/IPv4/);
    expect(() => hostRuleset({ ...host, keyless: { address: '127.0.0.1', port: 0 } })).toThrow(/port/);
    expect(() => namespaceRuleset({ table: 'keyless_vm', vethNs: 'a b', nsAddress: '169.254.64.2', hostAddress: '169.254.64.1', keylessPort: 1 })).toThrow();
  });
});

describe('private hosts file', () => {
  it('lists the service names, the advertised host and every vault/account host under the suffix, nothing foreign', () => {
    const names = keylessHostNames({
      dnsSuffix: 'keyless.localhost',
      publicHost: 'localhost',
      urls: [
        'https://kv1.vault.keyless.localhost:41229/',
        'https://acct1.blob.keyless.localhost:41229/',
        'http://127.77.0.1:33017',
        'https://evil.example.com/',
        '/subscriptions/x',
        'not a url',
      ],
    });
    expect(names).toEqual([
      'acct1.blob.keyless.localhost',
      'keyless.localhost',
      'kv1.vault.keyless.localhost',
      'login.keyless.localhost',
      'management.keyless.localhost',
      'portal.keyless.localhost',
    ]);
    expect(keylessHostNames({ dnsSuffix: 'kl.test', publicHost: 'keyless.corp.example' })).toContain('keyless.corp.example');
    expect(keylessHostNames({ dnsSuffix: 'kl.test', publicHost: '127.0.0.1' })).not.toContain('127.0.0.1');
  });

  it('maps them to the link address, keeps localhost on loopback, and drops anything that is not a host name', () => {
    const text = hostsFile({
      vmName: 'vm1\nINJECT',
      session: 'keyless-362fbe-5c79',
      keylessAddress: '169.254.64.1',
      names: ['management.keyless.localhost', 'kv1.vault.keyless.localhost', 'bad name', '1.2.3.4 evil'],
      localNames: ['myhost', 'bad host'],
    });
    expect(text).toBe(
      [
        "# Private /etc/hosts of Keyless isolated VM 'vm1?INJECT' (keyless-362fbe-5c79).",
        '# Keyless names resolve to the host end of the VM link; nothing else is reachable from here.',
        '127.0.0.1\tlocalhost myhost',
        '169.254.64.1\tmanagement.keyless.localhost',
        '169.254.64.1\tkv1.vault.keyless.localhost',
        '',
      ].join('\n'),
    );
  });

  it('resolv.conf names no server, so lookups fail at once', () => {
    expect(resolvConf()).not.toMatch(/^nameserver/m);
  });
});

describe('stale sessions', () => {
  const rec = (over: Partial<SessionRecord> = {}): SessionRecord => ({
    version: 1,
    names: sessionNames('362fbe', '5c79'),
    block: 0,
    pid: 100,
    pidStart: '555',
    serverPid: 200,
    vm: 'vm1',
    createdAt: '2026-01-01T00:00:00Z',
    ...over,
  });
  const alive = (pids: number[]) => (pid: number) => pids.includes(pid);

  it('is live while its CLI and its server run', () => {
    expect(isStale(rec(), { isAlive: alive([100, 200]) })).toBe(false);
  });
  it('is stale when the CLI is gone (SIGKILL, crash)', () => {
    expect(isStale(rec(), { isAlive: alive([200]) })).toBe(true);
  });
  it('is stale when its server is gone', () => {
    expect(isStale(rec(), { isAlive: alive([100]) })).toBe(true);
  });
  it('is stale when the same server id now runs as another process (restart)', () => {
    expect(isStale(rec(), { isAlive: alive([100, 200, 300]), serverId: '362fbe', serverPid: 300 })).toBe(true);
    expect(isStale(rec(), { isAlive: alive([100, 200, 300]), serverId: 'aaaaaa', serverPid: 300 })).toBe(false);
  });
  it('passes the recorded start time, so a recycled pid does not keep a session alive', () => {
    const seen: (string | undefined)[] = [];
    isStale(rec(), { isAlive: (pid, start) => (seen.push(start), true) });
    expect(seen[0]).toBe('555');
  });
});

describe('the child environment', () => {
  const rt = { pid: 1, tenantId: 't', dnsSuffix: 'keyless.localhost', caFile: '/ca.crt', caBundleFile: '/bundle.crt', endpoints: { resourceManager: 'https://localhost:41229' } };

  it('drops every identity redirection and proxy, keeps the rest, adds CA trust and Keyless’s informational names', () => {
    const env = isolatedEnvironment(
      { PATH: '/usr/bin', HOME: '/root', MSI_ENDPOINT: 'x', IDENTITY_ENDPOINT: 'x', AZURE_POD_IDENTITY_AUTHORITY_HOST: 'x', AZURE_CLIENT_SECRET: 's', https_proxy: 'p', AZURE_CONFIG_DIR: '/tmp/az' },
      { AZURE_POD_IDENTITY_AUTHORITY_HOST: 'http://127.77.0.1:1', KEYLESS_VAULT_KV1_URL: 'https://kv1.vault.keyless.localhost:41229/', NODE_EXTRA_CA_CERTS: '/other' },
      rt,
      'vm1',
    );
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/root',
      AZURE_CONFIG_DIR: '/tmp/az',
      KEYLESS_VAULT_KV1_URL: 'https://kv1.vault.keyless.localhost:41229/',
      KEYLESS_ISOLATED_VM: 'vm1',
      NODE_EXTRA_CA_CERTS: '/ca.crt',
      REQUESTS_CA_BUNDLE: '/bundle.crt',
      CURL_CA_BUNDLE: '/bundle.crt',
      SSL_CERT_FILE: '/bundle.crt',
    });
  });

  it('finds the VM’s IMDS listener in the VM environment', () => {
    expect(imdsListenerOf({ AZURE_POD_IDENTITY_AUTHORITY_HOST: 'http://127.77.0.3:50342' })).toEqual({ address: '127.77.0.3', port: 50342 });
    expect(() => imdsListenerOf({})).toThrow(/no IMDS listener/);
  });
});

describe('session records and block claims (state directory)', async () => {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const state = await import('../../../src/isolation/state.js');

  it('creates a record once, reads it back, and removes it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-iso-'));
    const record: SessionRecord = { version: 1, names: sessionNames('362fbe', '5c79'), pid: process.pid, serverPid: 1, vm: 'vm1', createdAt: 'now' };
    expect(state.createRecord(dir, record)).toBe(true);
    expect(state.createRecord(dir, record)).toBe(false);
    expect(state.readRecords(dir)).toEqual([record]);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    state.removeRecord(dir, record.names);
    expect(state.readRecords(dir)).toEqual([]);
    fs.rmSync(dir, { recursive: true });
  });

  it('lets only one claimant have a block, and remembers who', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-iso-'));
    expect(state.claimBlock(dir, 3, '362fbe-5c79')).toBe(true);
    expect(state.claimBlock(dir, 3, 'aaaaaa-bbbb')).toBe(false);
    expect([...state.claimedBlocks(dir)]).toEqual([[3, '362fbe-5c79']]);
    state.releaseBlock(dir, 3);
    expect(state.claimedBlocks(dir).size).toBe(0);
    fs.rmSync(dir, { recursive: true });
  });

  it('tells a live process from a dead one, and from a recycled pid', () => {
    const start = state.processStartTime(process.pid);
    expect(start).toMatch(/^\d+$/);
    expect(state.isProcessAlive(process.pid, start)).toBe(true);
    expect(state.isProcessAlive(process.pid, '1')).toBe(false);
    expect(state.isProcessAlive(0)).toBe(false);
  });
});
