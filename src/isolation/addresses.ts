/**
 * Link addresses for the veth pair of an isolated VM: /30 blocks in 169.254.64.0/18. Link-local space is
 * never routed off the host, cannot collide with the LAN, and this slice stays clear of 169.254.169.0/24
 * (IMDS and its neighbours) and of the low blocks other tools like to use.
 */
export const POOL_BASE = ipv4ToInt('169.254.64.0');
export const POOL_BLOCKS = 4096;
export const PREFIX_LENGTH = 30;
/** The address every Azure client hard-codes for IMDS. */
export const IMDS_ADDRESS = '169.254.169.254';

export interface LinkAddresses {
  block: number;
  /** Host end of the veth: the next hop for 169.254.169.254 and the address Keyless names resolve to. */
  host: string;
  /** Namespace end of the veth. */
  ns: string;
  prefixLength: number;
}

export function blockAddresses(block: number): LinkAddresses {
  if (!Number.isInteger(block) || block < 0 || block >= POOL_BLOCKS) throw new Error(`link block ${block} is outside the pool`);
  const base = POOL_BASE + block * 4;
  return { block, host: intToIpv4(base + 1), ns: intToIpv4(base + 2), prefixLength: PREFIX_LENGTH };
}

/** The pool block an address falls in, or undefined outside the pool. */
export function blockOf(address: string): number | undefined {
  const n = parseIpv4(address);
  if (n === undefined || n < POOL_BASE || n >= POOL_BASE + POOL_BLOCKS * 4) return undefined;
  return Math.floor((n - POOL_BASE) / 4);
}

/**
 * The first block at or after `start` (wrapping) that is not taken. Callers still claim it atomically:
 * two CLIs may pick the same block, and only one claim file can be created.
 */
export function pickBlock(taken: Iterable<number>, start = 0): number {
  const used = new Set(taken);
  for (let i = 0; i < POOL_BLOCKS; i++) {
    const b = (((start + i) % POOL_BLOCKS) + POOL_BLOCKS) % POOL_BLOCKS;
    if (!used.has(b)) return b;
  }
  throw new Error(`all ${POOL_BLOCKS} isolated-VM link blocks (169.254.64.0/18) are in use`);
}

/** IPv4 addresses from `ip -4 -o addr show` output (`2: eth0    inet 10.0.0.5/24 brd …`). */
export function parseIpAddrOutput(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\binet (\d+\.\d+\.\d+\.\d+)\/\d+/g)) out.push(m[1]!);
  return out;
}

export function isIpv4(s: string): boolean {
  return parseIpv4(s) !== undefined;
}

function parseIpv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

function ipv4ToInt(s: string): number {
  const n = parseIpv4(s);
  if (n === undefined) throw new Error(`not an IPv4 address: ${s}`);
  return n;
}

function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}
