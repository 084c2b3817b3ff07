import { KeylessError } from '../core/errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A fault's durations (`--for 30s`, `--latency 250ms`, `--shift -5m`) in milliseconds. A bare number is
 * seconds, so JSON callers may send `"for": 30`. Signed only where the caller allows it (clock shifts).
 */
export function parseFaultDuration(input: unknown, name: string, opts: { signed?: boolean } = {}): number {
  if (typeof input === 'number' && Number.isFinite(input)) return check(Math.round(input * 1000));
  if (typeof input === 'string') {
    const m = /^\s*([+-]?)(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(input);
    if (m) return check(Math.round(Number(m[2]) * UNIT_MS[(m[3] ?? 's').toLowerCase()]!) * (m[1] === '-' ? -1 : 1));
  }
  throw new KeylessError(400, 'BadRequest', `'${String(input)}' is not a valid ${name}: use a duration such as 500ms, 30s, 10m or 1h${opts.signed ? ', with + or - in front' : ''}.`);

  function check(ms: number): number {
    if (ms < 0 && !opts.signed) throw new KeylessError(400, 'BadRequest', `${name} must not be negative.`);
    return ms;
  }
}

/** `90000` → `1m30s`, for listings. */
export function formatDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  let s = Math.abs(ms);
  if (s < 1000) return `${sign}${Math.round(s)}ms`;
  s = Math.round(s / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  return sign + (parts.join('') || '0s');
}
