import type { OperatorName, Quantifier } from './ast.js';
import { QUANTIFIERS } from './ast.js';
import type { GlobToken } from './glob.js';
import { compileLikePattern, foldCase, globMatch } from './glob.js';
import { toBool, toDateTimeTicks, toGuid, toInteger, toStringValue } from './values.js';

/** The type both operands of an operator are read as. */
export type Family = 'string' | 'numeric' | 'datetime' | 'guid' | 'bool';

/** A value after reading it as its operator's family (GUIDs: canonical string; date-times: ticks). */
export type Comparable = string | bigint | boolean;

export interface OperatorSpec {
  name: OperatorName;
  family: Family;
  /** Both arguments were produced by this family's `coerce`. */
  test(left: Comparable, right: Comparable): boolean;
}

export const COERCE: Record<Family, (v: unknown) => Comparable | undefined> = {
  string: toStringValue,
  numeric: toInteger,
  datetime: toDateTimeTicks,
  guid: toGuid,
  bool: toBool,
};

// Type guards per family: a value of the wrong type fails both the positive and the negated operator.
const strings =
  (f: (a: string, b: string) => boolean) =>
  (a: Comparable, b: Comparable): boolean =>
    typeof a === 'string' && typeof b === 'string' && f(a, b);
const bigints =
  (f: (a: bigint, b: bigint) => boolean) =>
  (a: Comparable, b: Comparable): boolean =>
    typeof a === 'bigint' && typeof b === 'bigint' && f(a, b);
const booleans =
  (f: (a: boolean, b: boolean) => boolean) =>
  (a: Comparable, b: Comparable): boolean =>
    typeof a === 'boolean' && typeof b === 'boolean' && f(a, b);

const eq = (a: string, b: string): boolean => a === b;
const eqIc = (a: string, b: string): boolean => foldCase(a) === foldCase(b);
const starts = (a: string, b: string): boolean => a.startsWith(b);
const startsIc = (a: string, b: string): boolean => foldCase(a).startsWith(foldCase(b));
// The right operand is the pattern, as in Azure's `@Resource[…:path] StringLike 'readonly/*'`. Patterns are nearly
// always literals, so a small memo spares recompiling them on every request.
const likeCache = new Map<string, GlobToken[]>();
function likeTokens(pattern: string, ignoreCase: boolean): GlobToken[] {
  const key = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let tokens = likeCache.get(key);
  if (tokens === undefined) {
    tokens = compileLikePattern(pattern, ignoreCase);
    if (likeCache.size >= 256) likeCache.clear();
    likeCache.set(key, tokens);
  }
  return tokens;
}
const like = (a: string, b: string): boolean => globMatch(likeTokens(b, false), a);
const likeIc = (a: string, b: string): boolean => globMatch(likeTokens(b, true), foldCase(a));

const specs: OperatorSpec[] = [
  { name: 'StringEquals', family: 'string', test: strings(eq) },
  { name: 'StringEqualsIgnoreCase', family: 'string', test: strings(eqIc) },
  { name: 'StringNotEquals', family: 'string', test: strings((a, b) => !eq(a, b)) },
  { name: 'StringNotEqualsIgnoreCase', family: 'string', test: strings((a, b) => !eqIc(a, b)) },
  { name: 'StringStartsWith', family: 'string', test: strings(starts) },
  { name: 'StringStartsWithIgnoreCase', family: 'string', test: strings(startsIc) },
  { name: 'StringNotStartsWith', family: 'string', test: strings((a, b) => !starts(a, b)) },
  { name: 'StringNotStartsWithIgnoreCase', family: 'string', test: strings((a, b) => !startsIc(a, b)) },
  { name: 'StringLike', family: 'string', test: strings(like) },
  { name: 'StringLikeIgnoreCase', family: 'string', test: strings(likeIc) },
  { name: 'StringNotLike', family: 'string', test: strings((a, b) => !like(a, b)) },
  { name: 'StringNotLikeIgnoreCase', family: 'string', test: strings((a, b) => !likeIc(a, b)) },
  { name: 'NumericEquals', family: 'numeric', test: bigints((a, b) => a === b) },
  { name: 'NumericNotEquals', family: 'numeric', test: bigints((a, b) => a !== b) },
  { name: 'NumericGreaterThan', family: 'numeric', test: bigints((a, b) => a > b) },
  { name: 'NumericGreaterThanEquals', family: 'numeric', test: bigints((a, b) => a >= b) },
  { name: 'NumericLessThan', family: 'numeric', test: bigints((a, b) => a < b) },
  { name: 'NumericLessThanEquals', family: 'numeric', test: bigints((a, b) => a <= b) },
  { name: 'DateTimeEquals', family: 'datetime', test: bigints((a, b) => a === b) },
  { name: 'DateTimeNotEquals', family: 'datetime', test: bigints((a, b) => a !== b) },
  { name: 'DateTimeGreaterThan', family: 'datetime', test: bigints((a, b) => a > b) },
  { name: 'DateTimeGreaterThanEquals', family: 'datetime', test: bigints((a, b) => a >= b) },
  { name: 'DateTimeLessThan', family: 'datetime', test: bigints((a, b) => a < b) },
  { name: 'DateTimeLessThanEquals', family: 'datetime', test: bigints((a, b) => a <= b) },
  // toGuid already lower-cases, which is what makes GUID comparison case-insensitive.
  { name: 'GuidEquals', family: 'guid', test: strings(eq) },
  { name: 'GuidNotEquals', family: 'guid', test: strings((a, b) => !eq(a, b)) },
  { name: 'BoolEquals', family: 'bool', test: booleans((a, b) => a === b) },
  { name: 'BoolNotEquals', family: 'bool', test: booleans((a, b) => a !== b) },
];

export const OPERATORS: ReadonlyMap<OperatorName, OperatorSpec> = new Map(specs.map((s) => [s.name, s]));

/** Operator names are case-insensitive on input (built-in roles ship `boolequals`); the AST keeps canonical casing. */
export const OPERATORS_BY_LOWER: ReadonlyMap<string, OperatorSpec> = new Map(specs.map((s) => [s.name.toLowerCase(), s]));
export const QUANTIFIERS_BY_LOWER: ReadonlyMap<string, Quantifier> = new Map(QUANTIFIERS.map((q) => [q.toLowerCase(), q]));

export function operatorSpec(name: OperatorName): OperatorSpec {
  const spec = OPERATORS.get(name);
  if (spec === undefined) throw new Error(`unknown condition operator ${name}`);
  return spec;
}

/**
 * One operand's values after coercion: `undefined` entries are values of the wrong type. They fail every pairwise
 * test, so under a For-All quantifier they fail the whole comparison and under For-Any they simply never match.
 */
export type Values = readonly (Comparable | undefined)[];

function pairTest(spec: OperatorSpec, l: Comparable | undefined, r: Comparable | undefined): boolean {
  return l !== undefined && r !== undefined && spec.test(l, r);
}

/**
 * Applies an operator to two coerced value lists. Without a quantifier both sides must hold exactly one value
 * (multi-valued attributes need a ForXOfYValues prefix, as in Azure). With one, an empty side follows plain logic:
 * "for all" over nothing is true, "for any" over nothing is false — e.g. a blob without tags satisfies
 * `@Resource[…tags&$keys$&] ForAllOfAnyValues:StringEquals {'Project'}` ("has no tag keys other than Project").
 */
export function applyOperator(spec: OperatorSpec, quantifier: Quantifier | undefined, left: Values, right: Values): boolean {
  if (quantifier === undefined) {
    return left.length === 1 && right.length === 1 && pairTest(spec, left[0], right[0]);
  }
  const anyRight = (l: Comparable | undefined): boolean => right.some((r) => pairTest(spec, l, r));
  const allRight = (l: Comparable | undefined): boolean => right.every((r) => pairTest(spec, l, r));
  switch (quantifier) {
    case 'ForAnyOfAnyValues':
      return left.some(anyRight);
    case 'ForAllOfAnyValues':
      return left.every(anyRight);
    case 'ForAnyOfAllValues':
      return left.some(allRight);
    case 'ForAllOfAllValues':
      return left.every(allRight);
  }
}
