import { KeylessError } from '../../core/errors.js';

/** The code Keyless puts on the wire for any unparseable condition or unsupported conditionVersion. */
export const CONDITION_ERROR_CODE = 'InvalidConditionExpression';

// Azure answers every malformed condition (and a conditionVersion other than 2.0) with this sentence; we keep it as
// the prefix so clients that match on it keep working, and append where and why so a human can fix the condition.
const AZURE_PREFIX = 'The given role assignment condition is invalid.';

/** Where a problem is, as a human reads it: 1-based line and column. */
export function lineAndColumn(source: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(offset, 0), source.length);
  for (let i = 0; i < end; i++) {
    if (source.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/** A syntax (or static type) error at `offset` in `source`. */
export function conditionSyntaxError(source: string, offset: number, problem: string): KeylessError {
  const { line, column } = lineAndColumn(source, offset);
  const sentence = problem.charAt(0).toUpperCase() + problem.slice(1);
  return new KeylessError(400, CONDITION_ERROR_CODE, `${AZURE_PREFIX} ${sentence} (at line ${line}, column ${column}).`, {
    extra: { position: offset, line, column },
  });
}

/** An error that is not tied to a position (empty condition, unsupported version). */
export function conditionError(problem: string): KeylessError {
  return new KeylessError(400, CONDITION_ERROR_CODE, `${AZURE_PREFIX} ${problem}`);
}

/** Shortens a token's text for "found …" in messages so a 2 KB GUID list does not flood them. */
export function abbreviate(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > 40 ? `${flat.slice(0, 37)}...` : flat;
}

export function describeText(text: string): string {
  return `'${abbreviate(text)}'`;
}
