import { describe, expect, it } from 'vitest';
import { faultInput, formatDuration, parseFaultDuration } from '../../../src/faults/index.js';

describe('fault durations', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1.5s', 1_500],
    [' 45 ', 45_000],
    [2, 2_000],
  ])('%s is %d ms', (input, ms) => expect(parseFaultDuration(input, 'x')).toBe(ms));

  it('takes a sign only where it is allowed (clock shifts)', () => {
    expect(parseFaultDuration('+10m', 'shift', { signed: true })).toBe(600_000);
    expect(parseFaultDuration('-5m', 'shift', { signed: true })).toBe(-300_000);
    expect(() => parseFaultDuration('-5m', 'lifetime')).toThrow(/must not be negative/);
  });

  it('refuses what is not a duration', () => {
    expect(() => parseFaultDuration('soon', 'lifetime (for)')).toThrow(/not a valid lifetime \(for\)/);
    expect(() => parseFaultDuration('10 parsecs', 'latency')).toThrow(/latency/);
  });

  it('formats listings compactly', () => {
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(-600_000)).toBe('-10m');
  });
});

describe('POST /keyless/v1/faults body', () => {
  it('turns the JSON fields into a fault', () => {
    expect(faultInput({ surface: 'imds', status: 429, retryAfter: 5, count: 3, for: '30s', latency: '250ms', target: 'vm1' })).toMatchObject({
      surface: 'imds',
      status: 429,
      retryAfter: 5,
      count: 3,
      forMs: 30_000,
      latencyMs: 250,
      target: 'vm1',
    });
    expect(faultInput({ surface: 'clock', shift: '-10m' })).toMatchObject({ surface: 'clock', shiftMs: -600_000 });
  });

  it('refuses unknown fields (a typo would otherwise be silently ignored)', () => {
    expect(() => faultInput({ surface: 'imds', status: 500, retry_after: 5 })).toThrow(/Unknown field 'retry_after'/);
  });

  it('refuses a body that is not an object, and mistyped values', () => {
    expect(() => faultInput([])).toThrow(/JSON object/);
    expect(() => faultInput({ surface: 'imds', status: 'bad' })).toThrow(/status must be a whole number/);
    expect(() => faultInput({ surface: 5 })).toThrow(/surface must be a string/);
  });
});
