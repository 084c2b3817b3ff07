/**
 * Action strings and permission patterns (authorization.md §1.4).
 *
 * Matching rules:
 *  - case-insensitive ("Permission strings are case-insensitive");
 *  - `*` matches zero or more characters, `/` included (`Microsoft.Compute/*` covers child types);
 *  - `x/*\/y` also matches `x/y`: the zero-segment reading is what makes Managed Identity Operator's
 *    `userAssignedIdentities/*\/assign/action` grant `userAssignedIdentities/assign/action`, and the Key Vault
 *    roles' `vaults/*\/read` grant `vaults/read` (Azure never states it; both documented facts need it).
 *  - surrounding whitespace is ignored: some built-in roles ship `"Microsoft.Network/virtualNetworks/read "`.
 *
 * Patterns are compiled once and cached process-wide; there are only a few thousand distinct strings.
 */
import { KeylessError } from './errors.js';

export interface ActionPattern {
  /** The pattern as written. */
  readonly source: string;
  /** Lower-cased, trimmed. */
  readonly key: string;
  readonly hasWildcard: boolean;
  /** Characters before the first `*` (lower-case); the literal part that narrows what the pattern can match. */
  readonly literalPrefix: string;
  /** `action` must already be lower-cased (see normalizeAction). */
  matchesNormalized(action: string): boolean;
  matches(action: string): boolean;
}

const cache = new Map<string, ActionPattern>();

const escapeRegex = (s: string): string => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

export const normalizeAction = (action: string): string => action.trim().toLowerCase();

function build(source: string): ActionPattern {
  const key = normalizeAction(source);
  const star = key.indexOf('*');
  let test: (a: string) => boolean;
  if (star < 0) {
    test = (a) => a === key;
  } else if (key === '*') {
    test = () => true;
  } else {
    // Each `/*/` may also collapse to a single `/` (zero segments).
    const STAR = '\u0000';
    const body = key
      .split('*')
      .map(escapeRegex)
      .join(STAR)
      .split(`/${STAR}/`)
      .join('/(?:.*/)?')
      .split(STAR)
      .join('.*');
    const re = new RegExp(`^${body}$`, 's');
    test = (a) => re.test(a);
  }
  return {
    source,
    key,
    hasWildcard: star >= 0,
    literalPrefix: star < 0 ? key : key.slice(0, star),
    matchesNormalized: test,
    matches: (a: string) => test(normalizeAction(a)),
  };
}

/** Compiles (or fetches from the cache) a permission pattern. */
export function compileActionPattern(pattern: string): ActionPattern {
  let p = cache.get(pattern);
  if (p === undefined) {
    p = build(pattern);
    cache.set(pattern, p);
  }
  return p;
}

export const compileActionPatterns = (patterns: readonly string[]): ActionPattern[] => patterns.map(compileActionPattern);

/** Does `pattern` cover `action`? Both case-insensitive. */
export const actionMatches = (pattern: string, action: string): boolean => compileActionPattern(pattern).matches(action);

/** First pattern covering the (already normalized) action, if any. */
export function firstMatch(patterns: readonly ActionPattern[], normalizedAction: string): ActionPattern | undefined {
  for (const p of patterns) if (p.matchesNormalized(normalizedAction)) return p;
  return undefined;
}

export const matchesAny = (patterns: readonly ActionPattern[], normalizedAction: string): boolean =>
  firstMatch(patterns, normalizedAction) !== undefined;

/** The provider namespace of an action string (`Microsoft.KeyVault`), or undefined for `*` / `*…`. */
export function actionProvider(action: string): string | undefined {
  const slash = action.indexOf('/');
  const ns = (slash < 0 ? action : action.slice(0, slash)).trim();
  return ns.length === 0 || ns.includes('*') ? undefined : ns;
}

/**
 * Azure's service-side error for custom-role action strings with more than one wildcard
 * ("'Microsoft.CostManagement/*\/query/*' contains multiple wildcards. Only one is allowed.").
 */
export function invalidActionOrNotAction(message: string): KeylessError {
  return new KeylessError(400, 'InvalidActionOrNotAction', message);
}

/**
 * Validates one custom-role action string (Actions, NotActions, DataActions or NotDataActions). Built-in roles
 * are never validated: they are Azure's data.
 */
export function validateCustomRoleAction(action: string): void {
  if (typeof action !== 'string' || action.trim().length === 0) {
    throw invalidActionOrNotAction(`'${String(action)}' is not a valid action. Actions cannot be empty.`);
  }
  const stars = action.split('*').length - 1;
  if (stars > 1) throw invalidActionOrNotAction(`'${action}' contains multiple wildcards. Only one is allowed.`);
  if (/\s/.test(action.trim())) throw invalidActionOrNotAction(`'${action}' is not a valid action. Actions cannot contain whitespace.`);
}
