import { randomFillSync, randomUUID } from 'node:crypto';

export const newGuid = (): string => randomUUID();

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isGuid = (s: string): boolean => GUID_RE.test(s);

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** Entropy drawn in bulk, as node:crypto's randomUUID does: a syscall per id would cost more than the id. */
const pool = Buffer.alloc(16 * 256);
let poolOffset = pool.length;

/**
 * A time-ordered GUID (UUID version 7, RFC 9562 §5.7): 48 bits of Unix milliseconds, then 74 random bits.
 * Ids that sort by creation time go to the right-hand end of a B-tree index, so an append-heavy table (the audit
 * trail) dirties a few index pages per batch instead of one random page per row.
 */
export function timeOrderedGuid(nowMs: number = Date.now()): string {
  if (poolOffset + 10 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const r = poolOffset;
  poolOffset += 10;
  const t = Math.max(0, Math.floor(nowMs));
  const hi = Math.floor(t / 2 ** 16);
  const lo = t % 2 ** 16;
  const time = hi.toString(16).padStart(8, '0') + '-' + lo.toString(16).padStart(4, '0');
  const h = (i: number) => HEX[pool[r + i]!]!;
  const version = HEX[0x70 | (pool[r]! & 0x0f)]! + h(1);
  const variant = HEX[0x80 | (pool[r + 2]! & 0x3f)]! + h(3);
  return `${time.slice(-13)}-${version}-${variant}-${h(4)}${h(5)}${h(6)}${h(7)}${h(8)}${h(9)}`;
}
