import { describe, it, expect } from 'vitest';
import { checkRead, checkWrite, parseConditions } from '../../../src/blob/conditions.js';
import { KeylessError } from '../../../src/core/errors.js';

const T = Date.parse('2026-01-01T10:00:00.500Z');
const r = { etag: '"0x8DC1"', lastModified: T };
const outcome = (fn: () => void): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return `${(e as KeylessError).status} ${(e as KeylessError).code}`;
  }
};
const c = (h: Record<string, string>) => parseConditions(h);

describe('read conditions (GET/HEAD)', () => {
  it.each<[Record<string, string>, string]>([
    [{}, 'ok'],
    [{ 'if-match': '"0x8DC1"' }, 'ok'],
    [{ 'if-match': '0x8DC1' }, 'ok'],
    [{ 'if-match': '*' }, 'ok'],
    [{ 'if-match': '"0x8DC2"' }, '412 ConditionNotMet'],
    [{ 'if-none-match': '"0x8DC1"' }, '304 ConditionNotMet'],
    [{ 'if-none-match': '*' }, '304 ConditionNotMet'],
    [{ 'if-none-match': '"0x8DC2"' }, 'ok'],
    [{ 'if-modified-since': 'Thu, 01 Jan 2026 10:00:00 GMT' }, '304 ConditionNotMet'],
    [{ 'if-modified-since': 'Thu, 01 Jan 2026 09:59:59 GMT' }, 'ok'],
    [{ 'if-unmodified-since': 'Thu, 01 Jan 2026 10:00:00 GMT' }, 'ok'],
    [{ 'if-unmodified-since': 'Thu, 01 Jan 2026 09:59:59 GMT' }, '412 ConditionNotMet'],
    [{ 'if-modified-since': 'not a date' }, 'ok'],
    // If-None-Match decides over If-Modified-Since.
    [{ 'if-none-match': '"0x8DC2"', 'if-modified-since': 'Thu, 01 Jan 2026 10:00:00 GMT' }, 'ok'],
  ])('%j → %s', (h, want) => expect(outcome(() => checkRead(c(h), r))).toBe(want));
});

describe('write conditions', () => {
  it.each<[Record<string, string>, boolean, boolean, string]>([
    [{ 'if-none-match': '*' }, false, true, 'ok'],
    [{ 'if-none-match': '*' }, true, true, '409 BlobAlreadyExists'],
    [{ 'if-none-match': '*' }, true, false, '412 ConditionNotMet'],
    [{ 'if-match': '"0x8DC1"' }, true, true, 'ok'],
    [{ 'if-match': '"0x8DC2"' }, true, true, '412 ConditionNotMet'],
    [{ 'if-match': '*' }, false, true, '412 ConditionNotMet'],
    [{ 'if-none-match': '"0x8DC1"' }, true, true, '412 ConditionNotMet'],
    [{ 'if-modified-since': 'Thu, 01 Jan 2026 10:00:00 GMT' }, true, true, '412 ConditionNotMet'],
    [{ 'if-unmodified-since': 'Thu, 01 Jan 2026 10:00:00 GMT' }, true, true, 'ok'],
    [{ 'if-modified-since': 'Thu, 01 Jan 2026 10:00:00 GMT' }, false, true, 'ok'],
  ])('%j exists=%s conflict=%s → %s', (h, exists, conflict, want) =>
    expect(outcome(() => checkWrite(c(h), exists ? r : undefined, { noneMatchStarConflict: conflict }))).toBe(want),
  );
});
