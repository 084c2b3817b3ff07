import { IMDS_ADDRESS, isIpv4 } from './addresses.js';

export interface Endpoint {
  address: string;
  port: number;
}

export interface HostRulesInput {
  table: string;
  vethHost: string;
  /** Host end of the veth (the namespace's next hop). */
  hostAddress: string;
  /** The VM's own IMDS listener (127.77.x.y:port): the only thing 169.254.169.254:80 may reach. */
  imds: Endpoint;
  /** Keyless's HTTPS listener as the host reaches it (usually 127.0.0.1). */
  keyless: Endpoint;
}

/**
 * Host side, one table per session:
 * - prerouting DNATs 169.254.169.254:80 to the VM's IMDS listener and <hostAddress>:<port> to Keyless
 *   (the veth needs route_localnet=1 for a loopback target);
 * - input accepts only what was DNATed and resets everything else from the veth, so no other host
 *   service answers the VM;
 * - forward drops the veth both ways, so the VM reaches no network even where the host forwards packets.
 */
export function hostRuleset(i: HostRulesInput): string {
  check(i.table, i.vethHost, [i.hostAddress, i.imds.address, i.keyless.address], [i.imds.port, i.keyless.port]);
  const v = quote(i.vethHost);
  return [
    `table ip ${i.table} {`,
    `  chain prerouting {`,
    `    type nat hook prerouting priority -100; policy accept;`,
    `    iifname ${v} ip daddr ${IMDS_ADDRESS} tcp dport 80 dnat to ${i.imds.address}:${i.imds.port}`,
    `    iifname ${v} ip daddr ${i.hostAddress} tcp dport ${i.keyless.port} dnat to ${i.keyless.address}:${i.keyless.port}`,
    `  }`,
    `  chain input {`,
    `    type filter hook input priority 0; policy accept;`,
    `    iifname ${v} ct status dnat accept`,
    `    iifname ${v} meta l4proto tcp reject with tcp reset`,
    `    iifname ${v} reject`,
    `  }`,
    `  chain forward {`,
    `    type filter hook forward priority 0; policy accept;`,
    `    iifname ${v} reject`,
    `    oifname ${v} drop`,
    `  }`,
    `}`,
    '',
  ].join('\n');
}

export interface NamespaceRulesInput {
  table: string;
  vethNs: string;
  nsAddress: string;
  hostAddress: string;
  keylessPort: number;
}

/**
 * Namespace side: Keyless advertises its endpoints as https://localhost:<port>, and *.localhost names not in
 * the private hosts file resolve to loopback. Loopback inside the namespace is empty, so connections to
 * 127.0.0.0/8:<port> are sent to the host end instead (the veth needs route_localnet=1 to carry them, and the
 * loopback source is rewritten so the host accepts the packets).
 */
export function namespaceRuleset(i: NamespaceRulesInput): string {
  check(i.table, i.vethNs, [i.nsAddress, i.hostAddress], [i.keylessPort]);
  return [
    `table ip ${i.table} {`,
    `  chain output {`,
    `    type nat hook output priority -100; policy accept;`,
    `    ip daddr 127.0.0.0/8 tcp dport ${i.keylessPort} dnat to ${i.hostAddress}:${i.keylessPort}`,
    `  }`,
    `  chain postrouting {`,
    `    type nat hook postrouting priority 100; policy accept;`,
    `    oifname ${quote(i.vethNs)} ip saddr 127.0.0.0/8 snat to ${i.nsAddress}`,
    `  }`,
    `}`,
    '',
  ].join('\n');
}

/** Rule text is generated, never interpolated from user input: refuse anything that is not a plain token. */
function check(table: string, iface: string, addresses: string[], ports: number[]): void {
  if (!/^[a-z][a-z0-9_]{0,63}$/.test(table)) throw new Error(`invalid nftables table name '${table}'`);
  if (!/^[a-z0-9]{1,15}$/.test(iface)) throw new Error(`invalid interface name '${iface}'`);
  for (const a of addresses) if (!isIpv4(a)) throw new Error(`invalid IPv4 address '${a}'`);
  for (const p of ports) if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`invalid port ${p}`);
}

const quote = (s: string) => `"${s}"`;
