/**
 * Finding an attribute's value in a context bag.
 *
 * Names are matched case-insensitively (Azure attribute names are ARM-style identifiers), except the key part of an
 * attribute that carries `<$key_case_sensitive$>`: blob index tag keys are case-sensitive, so for
 * `…/blobs/tags:Project<$key_case_sensitive$>` the text before the first `:` is matched ignoring case and `Project`
 * exactly. Context keys may be written with or without the marker.
 *
 * `…/tags&$keys$&` is the set of tag keys. If the context has no entry for it we derive it from the tag entries
 * present under the same prefix (`…/tags:<key>`), so callers can describe a blob's tags once.
 */

const CASE_SENSITIVE_MARKER = '<$key_case_sensitive$>';
const KEYS_MARKER = '&$keys$&';

/** `undefined` means the attribute is absent (null is treated as absent too). */
export function lookupAttribute(bag: Record<string, unknown> | undefined, name: string): unknown {
  if (bag === undefined || bag === null) return undefined;
  const value = find(bag, name);
  if (value !== undefined) return value;
  if (endsWithIgnoreCase(name, KEYS_MARKER)) return deriveKeys(bag, name.slice(0, -KEYS_MARKER.length));
  return undefined;
}

interface Key {
  /** Before the first ':' (or the whole name), lower-cased. */
  prefix: string;
  /** After the first ':', as written; undefined when there is no ':'. */
  key: string | undefined;
  caseSensitive: boolean;
}

function parseKey(name: string): Key {
  const caseSensitive = endsWithIgnoreCase(name, CASE_SENSITIVE_MARKER);
  const base = stripMarker(name);
  const colon = base.indexOf(':');
  if (colon < 0) return { prefix: base.toLowerCase(), key: undefined, caseSensitive };
  return { prefix: base.slice(0, colon).toLowerCase(), key: base.slice(colon + 1), caseSensitive };
}

function find(bag: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(bag, name)) {
    const direct = bag[name];
    if (direct !== undefined && direct !== null) return direct;
  }
  const wanted = parseKey(name);
  for (const candidate of Object.keys(bag)) {
    const have = parseKey(candidate);
    if (have.prefix !== wanted.prefix) continue;
    if (have.key === undefined || wanted.key === undefined) {
      if (have.key !== wanted.key) continue;
    } else if (wanted.caseSensitive ? have.key !== wanted.key : have.key.toLowerCase() !== wanted.key.toLowerCase()) {
      continue;
    }
    const v = bag[candidate];
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

function deriveKeys(bag: Record<string, unknown>, base: string): string[] | undefined {
  const prefix = `${base.toLowerCase()}:`;
  const keys: string[] = [];
  for (const candidate of Object.keys(bag)) {
    const plain = stripMarker(candidate);
    if (plain.toLowerCase().startsWith(prefix) && bag[candidate] !== undefined && bag[candidate] !== null) {
      keys.push(plain.slice(prefix.length));
    }
  }
  return keys.length > 0 ? keys : undefined;
}

function stripMarker(name: string): string {
  return endsWithIgnoreCase(name, CASE_SENSITIVE_MARKER) ? name.slice(0, -CASE_SENSITIVE_MARKER.length) : name;
}

function endsWithIgnoreCase(s: string, suffix: string): boolean {
  return s.length >= suffix.length && s.slice(-suffix.length).toLowerCase() === suffix.toLowerCase();
}

/** A present value as a list: arrays as-is, anything else as one value. */
export function valuesOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [value];
}
