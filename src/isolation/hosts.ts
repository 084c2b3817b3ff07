/**
 * Hosts-file text: the isolated VM's private /etc/hosts and /etc/resolv.conf (`ip netns exec <ns>` bind-mounts
 * the files in /etc/netns/<ns>/ over /etc in a private mount namespace, so only the session sees them), and the
 * Keyless block that `keyless hosts` and `keyless run --private-hosts` add to a copy of the real /etc/hosts.
 */

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

export function isHostName(s: string): boolean {
  return HOSTNAME.test(s);
}

/**
 * Every name the VM may use to reach Keyless: the fixed service names under the DNS suffix, the advertised
 * public host (unless it is loopback, which the namespace already redirects), and the hosts of the URLs Keyless
 * hands a VM (one per vault and storage account). Sorted, unique, lower-case; anything not a host name is dropped.
 */
export function keylessHostNames(input: { dnsSuffix: string; publicHost?: string; urls?: Iterable<string> }): string[] {
  const suffix = input.dnsSuffix.toLowerCase();
  const names = new Set<string>([suffix, `management.${suffix}`, `login.${suffix}`, `portal.${suffix}`]);
  const pub = input.publicHost?.toLowerCase();
  if (pub && pub !== 'localhost' && !/^[\d.]+$/.test(pub) && !pub.includes(':')) names.add(pub);
  for (const u of input.urls ?? []) {
    let host: string;
    try {
      host = new URL(u).hostname.toLowerCase();
    } catch {
      continue;
    }
    if (host === suffix || host.endsWith(`.${suffix}`)) names.add(host);
  }
  return [...names].filter(isHostName).sort();
}

const BEGIN = '# BEGIN keyless';
const END = '# END keyless';

/**
 * The hosts-file block for Keyless's host-routed names (vaults, blob accounts, management/login), as
 * `keyless hosts` writes it into /etc/hosts and `keyless run --private-hosts` into the child's private copy.
 */
export function hostsBlock(names: string[], address = '127.0.0.1'): string {
  const unique = [...new Set(names.map((n) => n.toLowerCase()))].sort();
  return [BEGIN, ...unique.map((n) => `${address} ${n}`), END].join('\n') + '\n';
}

/** Replaces (or removes, with an empty list) the Keyless block in a hosts file's text, keeping the rest. */
export function replaceHostsBlock(text: string, names: string[], address?: string): string {
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  let rest = text;
  if (start >= 0 && end > start) rest = text.slice(0, start) + text.slice(end + END.length).replace(/^\n/, '');
  if (names.length === 0) return rest;
  return (rest.endsWith('\n') || rest === '' ? rest : rest + '\n') + hostsBlock(names, address);
}

export function hostsFile(input: { vmName: string; session: string; keylessAddress: string; names: string[]; localNames?: string[] }): string {
  const local = ['localhost', ...(input.localNames ?? []).filter((n) => isHostName(n) && n.toLowerCase() !== 'localhost')];
  const comment = (s: string) => s.replace(/[^\x20-\x7e]/g, '?');
  return [
    `# Private /etc/hosts of Keyless isolated VM '${comment(input.vmName)}' (${comment(input.session)}).`,
    '# Keyless names resolve to the host end of the VM link; nothing else is reachable from here.',
    `127.0.0.1\t${local.join(' ')}`,
    ...input.names.filter(isHostName).map((n) => `${input.keylessAddress}\t${n}`),
    '',
  ].join('\n');
}

/** No name servers: lookups of anything not in the hosts file fail at once instead of timing out. */
export function resolvConf(): string {
  return ['# Keyless isolated VM: no DNS. Keyless names are in /etc/hosts; nothing else resolves.', 'options timeout:1 attempts:1', ''].join('\n');
}
