import { isIP } from 'node:net';

/** The names a server certificate covers, canonical (lower-case DNS, compressed IPs), deduplicated and sorted. */
export interface SanSet {
  dns: string[];
  ips: string[];
}

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOSTNAME_RE = new RegExp(`^(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*$`);

export function canonicalDnsName(name: string): string {
  const n = name.trim().toLowerCase().replace(/\.$/, '');
  if (n.length > 253 || !HOSTNAME_RE.test(n)) throw new Error(`invalid DNS name for a certificate: ${JSON.stringify(name)}`);
  return n;
}

/**
 * '::1', '0:0:0:0:0:0:0:1' and the form x509 prints when reading a certificate back must compare equal,
 * otherwise an unchanged configuration would look changed and re-issue the leaf on every start.
 */
export function canonicalIp(ip: string): string {
  const raw = ip.trim().replace(/^\[(.*)\]$/, '$1');
  const family = isIP(raw);
  if (family === 0) throw new Error(`invalid IP address for a certificate: ${JSON.stringify(ip)}`);
  // The WHATWG URL parser is a ready-made canonicalizer (RFC 5952 compression for v6).
  const host = new URL(family === 6 ? `http://[${raw}]/` : `http://${raw}/`).hostname;
  return host.replace(/^\[(.*)\]$/, '$1');
}

const uniqueSorted = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();

export interface SanInput {
  dnsSuffix: string;
  extraDnsNames?: string[] | undefined;
  extraIps?: string[] | undefined;
}

/**
 * Every name a client may dial: loopback names and IPs, IMDS's link-local address (clients in a namespace
 * reach the server there, spec clients.md §4), and the per-service hosts under the DNS suffix. `*.<suffix>`
 * already covers management./login., but listing them keeps the intent visible in `openssl x509 -text`.
 * Wildcards match one label only, so vault and blob hosts need their own wildcards.
 */
export function requiredSans(input: SanInput): SanSet {
  const suffix = canonicalDnsName(input.dnsSuffix);
  if (suffix.startsWith('*.')) throw new Error(`dnsSuffix must not be a wildcard: ${JSON.stringify(input.dnsSuffix)}`);
  // Callers pass a configured public host as an extra DNS name; when that host is an IP literal it
  // belongs in an IP SAN (a DNS SAN spelled "10.0.0.5" matches nothing).
  const extraDns = (input.extraDnsNames ?? []).filter((n) => isIP(n.trim().replace(/^\[(.*)\]$/, '$1')) === 0);
  const extraIpsFromDns = (input.extraDnsNames ?? []).filter((n) => !extraDns.includes(n));
  const dns = [
    'localhost',
    '*.localhost',
    suffix,
    `*.${suffix}`,
    `*.vault.${suffix}`,
    `*.blob.${suffix}`,
    `management.${suffix}`,
    `login.${suffix}`,
    ...extraDns,
  ].map(canonicalDnsName);
  const ips = ['127.0.0.1', '::1', '169.254.169.254', ...extraIpsFromDns, ...(input.extraIps ?? [])].map(canonicalIp);
  return { dns: uniqueSorted(dns), ips: uniqueSorted(ips) };
}

export function sameSans(a: SanSet, b: SanSet): boolean {
  const eq = (x: string[], y: string[]): boolean => x.length === y.length && x.every((v, i) => v === y[i]);
  return eq(a.dns, b.dns) && eq(a.ips, b.ips);
}

/** Builds a SanSet from names read off a certificate; anything unparsable makes it differ from any requirement. */
export function sanSetOf(names: { type: string; value: string }[]): SanSet {
  const dns: string[] = [];
  const ips: string[] = [];
  for (const n of names) {
    if (n.type === 'dns') dns.push(n.value.toLowerCase());
    else if (n.type === 'ip') {
      try {
        ips.push(canonicalIp(n.value));
      } catch {
        ips.push(`invalid:${n.value}`);
      }
    } else dns.push(`${n.type}:${n.value}`);
  }
  return { dns: uniqueSorted(dns), ips: uniqueSorted(ips) };
}

/**
 * The names in node:crypto's `subjectAltName` text ("DNS:a, IP Address:127.0.0.1, …"), as sanSetOf takes them.
 * Node quotes an entry holding a comma or quote; such an entry (never one Keyless writes) is kept whole under an
 * unknown type, so the set differs from any requirement and the certificate is re-issued rather than misread.
 */
export function sanNamesOf(text: string | undefined): { type: string; value: string }[] {
  if (!text) return [];
  return text.split(', ').map((entry) => {
    if (entry.startsWith('DNS:')) return { type: 'dns', value: entry.slice(4) };
    if (entry.startsWith('IP Address:')) return { type: 'ip', value: entry.slice(11) };
    return { type: 'other', value: entry };
  });
}
