import { KeylessError } from '../core/errors.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** A duration like `90s`, `15m`, `1h`, `30d`, `2w`, in milliseconds; undefined when it is not one. */
export function parseDuration(input: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/i.exec(input);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!.toLowerCase()]!);
}

/**
 * `--since` / `--until` values: a duration back from now (`1h`, `30d`) or an absolute time (ISO 8601, or epoch
 * milliseconds). Relative values are resolved against the server's clock, which tests and fault injection shift.
 */
export function parseTimeBound(input: string, now: number, name = 'time'): number {
  const d = parseDuration(input);
  if (d !== undefined) return now - d;
  if (/^\d{12,}$/.test(input.trim())) return Number(input.trim());
  const t = Date.parse(input);
  if (Number.isNaN(t)) throw new KeylessError(400, 'BadRequest', `'${input}' is not a valid ${name}: use a duration such as 1h or 30d, or an ISO 8601 time.`);
  return t;
}
