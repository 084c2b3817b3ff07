import { describe, it, expect } from 'vitest';
import { ACCOUNT_NAME, checkBlobName, checkContainerName, checkMetadata, isValidBlockId } from '../../../src/blob/names.js';
import { KeylessError } from '../../../src/core/errors.js';

const code = (fn: () => void): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return (e as KeylessError).code;
  }
};

describe('names', () => {
  it.each([
    ['abc', 'ok'],
    ['my-container-1', 'ok'],
    ['a'.repeat(63), 'ok'],
    ['ab', 'OutOfRangeInput'],
    ['a'.repeat(64), 'OutOfRangeInput'],
    ['Abc', 'InvalidResourceName'],
    ['a--b', 'InvalidResourceName'],
    ['-ab', 'InvalidResourceName'],
    ['ab-', 'InvalidResourceName'],
    ['a_b', 'InvalidResourceName'],
    ['$root', 'InvalidResourceName'],
  ])('container %j → %s', (n, want) => expect(code(() => checkContainerName(n))).toBe(want));

  it('blob names: 1–1024 characters of anything', () => {
    expect(code(() => checkBlobName('Dir/Ünïcode name?.txt'))).toBe('ok');
    expect(code(() => checkBlobName('x'.repeat(1024)))).toBe('ok');
    expect(code(() => checkBlobName('x'.repeat(1025)))).toBe('OutOfRangeInput');
  });

  it('account names', () => {
    expect(ACCOUNT_NAME.test('acct1')).toBe(true);
    expect(ACCOUNT_NAME.test('Acct1')).toBe(false);
    expect(ACCOUNT_NAME.test('ab')).toBe(false);
    expect(ACCOUNT_NAME.test('a'.repeat(25))).toBe(false);
  });

  it('metadata names are C# identifiers, unique ignoring case, 8 KiB in all', () => {
    expect(code(() => checkMetadata({ Project: 'x', _a1: 'y' }))).toBe('ok');
    expect(code(() => checkMetadata({ '1a': 'x' }))).toBe('InvalidMetadata');
    expect(code(() => checkMetadata({ 'a-b': 'x' }))).toBe('InvalidMetadata');
    expect(code(() => checkMetadata({ a: 'x', A: 'y' }))).toBe('InvalidMetadata');
    expect(code(() => checkMetadata({ a: 'x'.repeat(9000) }))).toBe('MetadataTooLarge');
  });

  it('block ids are base64 of at most 64 bytes', () => {
    expect(isValidBlockId(Buffer.from('block-000001').toString('base64'))).toBe(true);
    expect(isValidBlockId(Buffer.alloc(64).toString('base64'))).toBe(true);
    expect(isValidBlockId(Buffer.alloc(65).toString('base64'))).toBe(false);
    expect(isValidBlockId('not base64!')).toBe(false);
    expect(isValidBlockId('abc')).toBe(false);
    expect(isValidBlockId('')).toBe(false);
  });
});
