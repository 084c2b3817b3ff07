import fc from 'fast-check';

/** A JSON value that tends to break handlers: wrong types, huge and deep values, unicode, prototype keys. */
export const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.constantFrom(-1, 0, 1e308, -1e308, 2 ** 53 + 1, 0.5),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', '\u202e', 'null', 'true', '[]', '{}', '../..', '%2f', 'SystemAssigned, UserAssigned', 'None', '/subscriptions/x', 'x'.repeat(70_000)),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.oneof(fc.constant(null), fc.string({ maxLength: 5 }), fc.integer()), { maxLength: 4 }),
  fc.nat(400).map((depth) => nest(depth)),
  fc.constant(JSON.parse('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}') as unknown),
);

function nest(depth: number): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

/** Every path (as key lists) to a value inside `v`, the root included, down to the depth a real body has. */
export function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out = [prefix];
  if (prefix.length >= 8) return out;
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  return out;
}

type Edit = { op: 'set' | 'delete' | 'add'; pick: number; key: string; value: unknown };

export const edit: fc.Arbitrary<Edit> = fc.record({
  op: fc.constantFrom('set', 'delete', 'add'),
  pick: fc.nat(),
  key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'id', 'type', 'name', 'location', 'properties', 'identity', 'tags', ''), fc.string({ maxLength: 10 })),
  value: weirdValue,
}) as fc.Arbitrary<Edit>;

/** Applies edits to a deep copy of `body`; own `__proto__` keys are defined, never assigned through the setter. */
export function mutate(body: unknown, edits: Edit[]): unknown {
  let root = structuredClone(body);
  for (const edit of edits) {
    // A copy per edit: two edits sharing one generated object could otherwise make the body circular.
    const e = { ...edit, value: structuredClone(edit.value) };
    const all = paths(root);
    const path = all[e.pick % all.length]!;
    if (path.length === 0) {
      if (e.op === 'set') root = e.value;
      continue;
    }
    const parent = path.slice(0, -1).reduce<any>((o, k) => o[k], root);
    const last = path[path.length - 1]!;
    if (e.op === 'set') Object.defineProperty(parent, last, { value: e.value, enumerable: true, writable: true, configurable: true });
    else if (e.op === 'delete') delete parent[last];
    const target = e.op === 'add' ? parent[last] : undefined;
    if (target && typeof target === 'object' && !Array.isArray(target)) {
      Object.defineProperty(target, e.key, { value: e.value, enumerable: true, writable: true, configurable: true });
    }
  }
  return root;
}

/** Raw body text damage: truncation, garbage bytes, duplicate keys, absurd numbers, deep nesting. */
export const textDamage = fc.oneof(
  fc.nat().map((n) => (t: string) => t.slice(0, n % (t.length + 1))),
  fc.string({ unit: 'binary', maxLength: 30 }).map((g) => (t: string) => t + g),
  fc.constant((t: string) => t.replace(/^\{/, '{"location":"westeurope","location":null,')),
  fc.constant((t: string) => t.replace(/^\{/, '{"big":1e999999,"neg":-0,"frac":1.0000000000000000000001,')),
  fc.constant(() => '['.repeat(100_000)),
  fc.constant(() => `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`),
  fc.constant(() => '\ufeff{}'),
  fc.constant(() => 'null'),
  fc.constant(() => '"just a string"'),
);

/** A fresh object's prototype is clean: nothing a request body did reached Object.prototype. */
export function prototypeIsClean(): boolean {
  return ({} as Record<string, unknown>)['polluted'] === undefined && Object.getOwnPropertyNames(Object.prototype).every((n) => n !== 'polluted');
}
