/**
 * Typed views of attribute values. Each `to*` returns undefined when a value cannot be read as that type; the
 * evaluator treats such a value as failing every comparison (positive or negated), so a mistyped attribute never
 * grants access.
 */

const DASHED_GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PLAIN_GUID = /^[0-9a-f]{32}$/i;

/** Strict GUID syntax used for literals: dashed or the 32-hex-digit form (Storage Actions Task Assignment Contributor). */
export function parseGuidLiteral(text: string): string | undefined {
  if (DASHED_GUID.test(text)) return text.toLowerCase();
  if (PLAIN_GUID.test(text)) {
    const h = text.toLowerCase();
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  return undefined;
}

/**
 * Attribute values are read more leniently: `{braced}` GUIDs, and a resource id whose last segment is a GUID —
 * a roleAssignments PUT body carries `roleDefinitionId` as `/subscriptions/…/roleDefinitions/{guid}`, while Azure
 * compares `@Request[…:RoleDefinitionId]` as the GUID.
 */
export function toGuid(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  let s = v.trim();
  if (s.includes('/')) s = s.replace(/\/+$/, '').split('/').pop() ?? '';
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  return parseGuidLiteral(s);
}

const INTEGER = /^-?[0-9]+$/;

export function parseIntegerLiteral(text: string): bigint | undefined {
  return INTEGER.test(text) ? BigInt(text) : undefined;
}

/** Numeric operators are integer-only in Azure; fractional values are a type mismatch, not a rounding opportunity. */
export function toInteger(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : undefined;
  if (typeof v === 'string') return parseIntegerLiteral(v.trim());
  return undefined;
}

export function toBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'true') return true;
    if (s === 'false') return false;
  }
  return undefined;
}

export function toStringValue(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

// `yyyy-mm-ddThh:mm:ss.fffffffZ`; the fraction is optional and 1–7 digits (Azure's own example is `…00.0Z`).
const DATETIME_LITERAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?Z$/;
// Attribute values come from our own code or clients: also allow lower-case separators, longer fractions, offsets.
const DATETIME_VALUE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

const TICKS_PER_MS = 10_000n;

/**
 * Both sides are compared as 100-ns ticks since the Unix epoch ("full precision" per Azure: a blob versionId has
 * seven fractional digits, and two versions within one millisecond must still compare unequal).
 */
export function parseDateTimeLiteral(text: string): bigint | undefined {
  const m = DATETIME_LITERAL.exec(text);
  return m ? ticksFrom(m, 0) : undefined;
}

export function toDateTimeTicks(v: unknown): bigint | undefined {
  if (v instanceof Date) {
    const ms = v.getTime();
    return Number.isNaN(ms) ? undefined : BigInt(ms) * TICKS_PER_MS;
  }
  if (typeof v !== 'string') return undefined;
  const m = DATETIME_VALUE.exec(v.trim());
  if (!m) return undefined;
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return ticksFrom(m, offsetMinutes);
}

function ticksFrom(m: RegExpExecArray, offsetMinutes: number): bigint | undefined {
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((k) => Number(m[k]));
  if (
    year === undefined ||
    month === undefined ||
    day === undefined ||
    hour === undefined ||
    minute === undefined ||
    second === undefined
  ) {
    return undefined;
  }
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  // setUTCFullYear, unlike Date.UTC, does not remap years 0–99 to 1900–1999.
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  // Day overflow (Feb 30 → Mar 2) shows up as a different calendar day.
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return undefined;
  const fraction = (m[7] ?? '').slice(0, 7).padEnd(7, '0');
  const ms = d.getTime() - offsetMinutes * 60_000;
  return BigInt(ms) * TICKS_PER_MS + BigInt(fraction);
}
