import { describe, expect, it } from 'vitest';
import { parseDuration, parseTimeBound } from '../../../src/audit/time.js';

describe('audit time bounds', () => {
  const now = Date.parse('2025-06-01T12:00:00Z');
  it('parses durations in s, m, h, d and w', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('30d')).toBe(30 * 86_400_000);
    expect(parseDuration('2w')).toBe(14 * 86_400_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('1y')).toBeUndefined();
    expect(parseDuration('h')).toBeUndefined();
  });
  it('resolves relative bounds against the given clock, absolute ones as written', () => {
    expect(parseTimeBound('1h', now)).toBe(now - 3_600_000);
    expect(parseTimeBound('2025-05-01T00:00:00Z', now)).toBe(Date.parse('2025-05-01T00:00:00Z'));
    expect(parseTimeBound(String(now), now)).toBe(now);
  });
  it('refuses anything else with a 400 naming the parameter', () => {
    expect(() => parseTimeBound('yesterday', now, 'since')).toThrow(/not a valid since/);
    try {
      parseTimeBound('soon', now);
    } catch (e) {
      expect((e as { status: number }).status).toBe(400);
    }
  });
});
