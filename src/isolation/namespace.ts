import fs from 'node:fs';
import path from 'node:path';
import { blockAddresses, blockOf, parseIpAddrOutput, pickBlock, type LinkAddresses } from './addresses.js';
import { removeSession, removeSessionSync } from './cleanup.js';
import { hostsFile, resolvConf } from './hosts.js';
import { NAMESPACE_NFT_TABLE, newSessionId, serverIdFor, sessionNames, type SessionNames } from './names.js';
import { hostRuleset, namespaceRuleset, type Endpoint } from './rules.js';
import { claimBlock, claimedBlocks, createRecord, processStartTime, stateDir, updateRecord, type SessionRecord } from './state.js';
import { requireIsolation, run } from './system.js';

export interface IsolationTarget {
  tenantId: string;
  /** The `keyless serve` process the rules point at (a restart of it makes the session stale). */
  serverPid: number;
  vmName: string;
  /** The VM's IMDS listener on the host. */
  imds: Endpoint;
  /** Keyless's HTTPS listener as the host reaches it. */
  keyless: Endpoint;
  /** Names that must resolve to Keyless inside the VM. */
  hostNames: string[];
  /** Extra names for 127.0.0.1 (the host's own name, so tools like sudo do not complain). */
  localNames?: string[];
  stateDir?: string;
}

export interface IsolatedSession {
  names: SessionNames;
  link: LinkAddresses;
  /** argv that runs a command inside the namespace, with the private /etc/hosts and /etc/resolv.conf. */
  command(argv: string[]): { cmd: string; args: string[] };
  dispose(): Promise<string[]>;
  /** Last-chance cleanup from a process 'exit' handler. */
  disposeSync(): string[];
}

/**
 * A fresh network namespace for one VM: a veth link to the host, one route (169.254.169.254 via the host
 * end), DNAT on the host to the VM's IMDS listener and to Keyless's HTTPS port, nothing else reachable, IPv6
 * off (so *.localhost names resolve to the one loopback the rules redirect), and a private hosts file.
 */
export async function createSession(t: IsolationTarget): Promise<IsolatedSession> {
  requireIsolation();
  const dir = t.stateDir ?? stateDir();
  const serverId = serverIdFor(t.tenantId);
  const record = newRecord(dir, serverId, t);
  const names = record.names;
  let disposed = false;
  const dispose = async () => {
    if (disposed) return [];
    disposed = true;
    return removeSession(names, { dir, ...(record.block !== undefined ? { block: record.block } : {}) });
  };
  const disposeSync = () => {
    if (disposed) return [];
    disposed = true;
    return removeSessionSync(names, { dir, ...(record.block !== undefined ? { block: record.block } : {}) });
  };
  try {
    const link = await claimLink(dir, record);
    const etc = path.join('/etc/netns', names.netns);
    fs.mkdirSync(etc, { recursive: true, mode: 0o755 });
    fs.writeFileSync(
      path.join(etc, 'hosts'),
      hostsFile({ vmName: t.vmName, session: names.netns, keylessAddress: link.host, names: t.hostNames, localNames: t.localNames ?? [] }),
      { mode: 0o644 },
    );
    fs.writeFileSync(path.join(etc, 'resolv.conf'), resolvConf(), { mode: 0o644 });

    await run('ip', ['netns', 'add', names.netns]);
    await run('ip', ['link', 'add', names.vethHost, 'type', 'veth', 'peer', 'name', names.vethNs, 'netns', names.netns]);
    await run('ip', ['addr', 'add', `${link.host}/${link.prefixLength}`, 'dev', names.vethHost]);
    // DNAT to a loopback address is refused on an interface without route_localnet.
    fs.writeFileSync(`/proc/sys/net/ipv4/conf/${names.vethHost}/route_localnet`, '1');
    await run('ip', ['link', 'set', names.vethHost, 'up']);

    const inNs = (args: string[]) => run('ip', ['-n', names.netns, ...args]);
    await inNs(['link', 'set', 'lo', 'up']);
    await inNs(['addr', 'add', `${link.ns}/${link.prefixLength}`, 'dev', names.vethNs]);
    await inNs(['link', 'set', names.vethNs, 'up']);
    await inNs(['route', 'add', '169.254.169.254/32', 'via', link.host]);
    await run('ip', ['netns', 'exec', names.netns, 'sysctl', '-qw', `net.ipv4.conf.${names.vethNs}.route_localnet=1`]);
    // A kernel without IPv6 has no such keys; then there is nothing to turn off.
    await run('ip', ['netns', 'exec', names.netns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.lo.disable_ipv6=1'], {
      allowFailure: true,
    });

    await run('nft', ['-f', '-'], { input: hostRuleset({ table: names.nftTable, vethHost: names.vethHost, hostAddress: link.host, imds: t.imds, keyless: t.keyless }) });
    await run('ip', ['netns', 'exec', names.netns, 'nft', '-f', '-'], {
      input: namespaceRuleset({ table: NAMESPACE_NFT_TABLE, vethNs: names.vethNs, nsAddress: link.ns, hostAddress: link.host, keylessPort: t.keyless.port }),
    });
    return {
      names,
      link,
      command: (argv) => ({ cmd: 'ip', args: ['netns', 'exec', names.netns, ...argv] }),
      dispose,
      disposeSync,
    };
  } catch (e) {
    await dispose();
    throw e;
  }
}

function newRecord(dir: string, serverId: string, t: IsolationTarget): SessionRecord {
  for (let i = 0; i < 20; i++) {
    const record: SessionRecord = {
      version: 1,
      names: sessionNames(serverId, newSessionId()),
      pid: process.pid,
      ...optional('pidStart', processStartTime(process.pid)),
      serverPid: t.serverPid,
      vm: t.vmName,
      createdAt: new Date().toISOString(),
    };
    if (createRecord(dir, record)) return record;
  }
  throw new Error('could not allocate an isolated-VM session id');
}

/** Claims a /30 no interface uses and no other session has claimed; the claim file makes the race safe. */
async function claimLink(dir: string, record: SessionRecord): Promise<LinkAddresses> {
  const inUse = new Set<number>();
  const addrs = await run('ip', ['-4', '-o', 'addr', 'show']);
  for (const a of parseIpAddrOutput(addrs.stdout)) {
    const b = blockOf(a);
    if (b !== undefined) inUse.add(b);
  }
  for (const b of claimedBlocks(dir).keys()) inUse.add(b);
  const owner = `${record.names.serverId}-${record.names.sessionId}`;
  for (let attempt = 0; attempt < 64; attempt++) {
    const block = pickBlock(inUse);
    if (claimBlock(dir, block, owner)) {
      record.block = block;
      updateRecord(dir, record);
      return blockAddresses(block);
    }
    inUse.add(block);
  }
  throw new Error('could not claim an isolated-VM link block');
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
