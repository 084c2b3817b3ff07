import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/server/config.js';

describe('imdsThrottle setting', () => {
  it('is off by default (test suites ask IMDS for tokens faster than a VM may)', () => {
    expect(resolveConfig({ env: {} }).imdsThrottle).toBe(false);
  });

  it('is turned on by KEYLESS_IMDS_THROTTLE=1 or the flag', () => {
    expect(resolveConfig({ env: { KEYLESS_IMDS_THROTTLE: '1' } }).imdsThrottle).toBe(true);
    expect(resolveConfig({ env: {}, flags: { imdsThrottle: true } }).imdsThrottle).toBe(true);
  });

  it('refuses a value that is not a boolean, naming the setting', () => {
    expect(() => resolveConfig({ env: { KEYLESS_IMDS_THROTTLE: 'sometimes' } })).toThrow(/imdsThrottle must be true or false/);
  });
});
