/**
 * Azure ABAC role-assignment / role-definition conditions, conditionVersion 2.0 (spec: authorization.md §1.7).
 *
 * Semantics chosen where Azure's documentation is silent:
 *
 * - A missing attribute (absent key, undefined or null) makes every comparison that reads it false — the negated
 *   operators (StringNotEquals, GuidNotEquals, …) and every ForXOfYValues form included. A condition is an allow
 *   gate, so "I could not read the attribute" must never be what grants access; an author who wants "absent is fine"
 *   says so with `NOT Exists @…[…] OR …`. Logical negation is still plain logic: `!(@x StringEquals 'a')` is true
 *   when x is missing. Only Exists (and NOT Exists) observe absence directly.
 * - The same applies to a value of the wrong type (a number where a string is expected, an unparseable date-time):
 *   that value fails both the operator and its negation.
 * - Operators without a ForXOfYValues prefix compare exactly one value with one value; a multi-valued attribute
 *   there is false, and a multi-item literal set is rejected at parse time.
 * - An attribute present as an empty array is a present, empty set: ForAll… over it is true, ForAny… false.
 * - Attribute names are matched case-insensitively, except tag keys marked `<$key_case_sensitive$>`. StringEquals,
 *   StringStartsWith and StringLike compare values case-sensitively, their IgnoreCase variants and GuidEquals do
 *   not; ActionMatches and SubOperationMatches ignore case like RBAC action strings do.
 * - Keywords, function names, operator names and attribute sources are case-insensitive (built-in roles ship
 *   `boolequals`); AND and OR may not be mixed at one level without parentheses (Azure calls that ambiguous).
 * - `@Environment[UtcNow]` defaults to the current time when the context does not supply it.
 */
import type { Expr } from './ast.js';
import { conditionError } from './errors.js';
import type { ConditionContext } from './context.js';
import { compileExpr } from './evaluate.js';
import { parseCondition } from './parser.js';

export type { ConditionContext } from './context.js';
export type * from './ast.js';
export { CONDITION_ERROR_CODE } from './errors.js';
export { formatCondition } from './format.js';
export { parseCondition } from './parser.js';
export { actionMatches } from './glob.js';

export interface CompiledCondition {
  readonly source: string;
  /** The parsed condition; `formatCondition(ast)` prints it back in canonical form. */
  readonly ast: Expr;
  evaluate(ctx: ConditionContext): boolean;
}

export const SUPPORTED_CONDITION_VERSION = '2.0';

// Role assignments are evaluated on every request; the same few condition strings recur, so keep compiled ones.
const CACHE_LIMIT = 512;
const cache = new Map<string, CompiledCondition>();

/**
 * Parses and compiles a condition. Throws KeylessError 400 `InvalidConditionExpression` on a syntax error (the
 * message names the line/column and what was expected) or when `version` is given and is not '2.0' — Azure rejects
 * conditionVersion 1.0 with the same "The given role assignment condition is invalid." error.
 */
export function compileCondition(source: string, version?: string): CompiledCondition {
  // null counts as "not given": role-definition JSON carries `conditionVersion: null` next to `condition: null`.
  if (version !== undefined && version !== null && version !== SUPPORTED_CONDITION_VERSION) {
    throw conditionError(`conditionVersion '${String(version)}' is not supported; use '${SUPPORTED_CONDITION_VERSION}'.`);
  }
  if (typeof source !== 'string') throw conditionError('The condition must be a string.');
  const hit = cache.get(source);
  if (hit !== undefined) return hit;
  // Frozen because cached instances are shared between callers.
  const ast = deepFreeze(parseCondition(source));
  const predicate = compileExpr(ast);
  const compiled: CompiledCondition = Object.freeze({
    source,
    ast,
    evaluate: (ctx: ConditionContext): boolean => predicate(ctx),
  });
  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  cache.set(source, compiled);
  return compiled;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
