import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { contentRange, parseRange, resolveRange } from '../../../src/blob/range.js';
import { isStorageError } from '../../../src/blob/errors.js';
import { KeylessError } from '../../../src/core/errors.js';

const fails = (fn: () => unknown): { status: number; code: string; headers: Record<string, string> } => {
  try {
    fn();
  } catch (e) {
    const k = e as KeylessError;
    return { status: k.status, code: k.code, headers: k.headers };
  }
  throw new Error('did not throw');
};

describe('parseRange', () => {
  it.each<[string | undefined, string | undefined, { start: number; end: number | undefined; header: string } | undefined]>([
    [undefined, undefined, undefined],
    ['bytes=0-4', undefined, { start: 0, end: 4, header: 'range' }],
    [undefined, 'bytes=0-33554431', { start: 0, end: 33554431, header: 'x-ms-range' }],
    ['bytes=10-', undefined, { start: 10, end: undefined, header: 'range' }],
    ['bytes=0-1', 'bytes=5-9', { start: 5, end: 9, header: 'x-ms-range' }],
    [' bytes = 3 - 4 ', undefined, { start: 3, end: 4, header: 'range' }],
    // Unsupported or malformed standard Range: ignored (the whole blob is served).
    ['bytes=-5', undefined, undefined],
    ['bytes=0-1,3-4', undefined, undefined],
    ['items=0-1', undefined, undefined],
    ['bytes=5-4', undefined, undefined],
    ['', '', undefined],
  ])('Range %j x-ms-range %j', (range, xms, want) => expect(parseRange(range, xms)).toEqual(want));

  it.each(['bytes=-5', 'bytes=5-4', 'bytes=a-b', 'bytes=0-1,2-3', '0-1'])('malformed x-ms-range %j is 400 InvalidHeaderValue', (v) => {
    const e = fails(() => parseRange(undefined, v));
    expect(e).toMatchObject({ status: 400, code: 'InvalidHeaderValue' });
  });
});

describe('resolveRange', () => {
  it('serves the whole blob without a range', () => expect(resolveRange(undefined, 10)).toEqual({ start: 0, end: 9, length: 10, partial: false }));
  it('clamps the end to the last byte (az asks for 32 MiB)', () => {
    const r = resolveRange({ start: 0, end: 33554431, header: 'x-ms-range' }, 5);
    expect(r).toEqual({ start: 0, end: 4, length: 5, partial: true });
    expect(contentRange(r, 5)).toBe('bytes 0-4/5');
  });
  it('an open range runs to the end', () => expect(resolveRange({ start: 3, end: undefined, header: 'range' }, 10)).toMatchObject({ start: 3, end: 9, length: 7 }));
  it('a start at or past the end is 416 InvalidRange with Content-Range: bytes */size', () => {
    expect(fails(() => resolveRange({ start: 10, end: 20, header: 'range' }, 10))).toEqual({ status: 416, code: 'InvalidRange', headers: { 'Content-Range': 'bytes */10' } });
  });
  it('any range on an empty blob is 416 (Python and az treat that as "empty")', () => {
    expect(fails(() => resolveRange({ start: 0, end: undefined, header: 'x-ms-range' }, 0)).status).toBe(416);
  });
});

describe('properties', () => {
  const header = fc.oneof(
    fc.constant(undefined),
    fc.string(),
    fc.tuple(fc.nat(), fc.option(fc.nat())).map(([a, b]) => `bytes=${a}-${b ?? ''}`),
    fc.tuple(fc.integer(), fc.integer()).map(([a, b]) => `bytes=${a}-${b}`),
    fc.stringMatching(/^bytes=[0-9-, ]{0,30}$/),
  );

  it('parsing and resolving never throw anything but a Storage error', () => {
    fc.assert(
      fc.property(header, header, fc.nat({ max: 1 << 30 }), (range, xms, size) => {
        try {
          const r = resolveRange(parseRange(range, xms), size);
          return r.length >= 0 && r.start >= 0 && r.end < size + (r.partial ? 0 : 1) && r.length === r.end - r.start + 1;
        } catch (e) {
          return isStorageError(e) && [400, 416].includes((e as KeylessError).status);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('a resolved partial range lies inside the blob', () => {
    fc.assert(
      fc.property(fc.nat({ max: 10_000 }), fc.option(fc.nat({ max: 20_000 })), fc.integer({ min: 1, max: 10_000 }), (start, end, size) => {
        if (end !== null && end < start) return true;
        try {
          const r = resolveRange({ start, end: end ?? undefined, header: 'x-ms-range' }, size);
          return r.start === start && r.end <= size - 1 && r.end >= r.start;
        } catch (e) {
          return isStorageError(e) && start >= size;
        }
      }),
    );
  });
});
