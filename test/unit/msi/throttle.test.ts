import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/core/clock.js';
import { ImdsThrottle, IMDS_LIMITS } from '../../../src/msi/throttle.js';

const clock = (): Clock & { t: number } => ({ t: 1_700_000_000_000, now() { return this.t; } });

describe('IMDS throttle', () => {
  it('admits 20 token requests per second per VM, then refuses until the next second', () => {
    const c = clock();
    const t = new ImdsThrottle(c);
    for (let i = 0; i < IMDS_LIMITS.identityPerSecond; i++) {
      expect(t.admit('vm1', true)).toBeUndefined();
      t.release('vm1');
    }
    expect(t.admit('vm1', true)?.reason).toMatch(/20 token requests per second/);
    // Another VM has its own budget.
    expect(t.admit('vm2', true)).toBeUndefined();
    c.t += 1000;
    expect(t.admit('vm1', true)).toBeUndefined();
  });

  it('admits 5 concurrent token requests per VM; a finished one frees its slot', () => {
    const t = new ImdsThrottle(clock());
    for (let i = 0; i < IMDS_LIMITS.identityConcurrent; i++) expect(t.admit('vm1', true)).toBeUndefined();
    expect(t.admit('vm1', true)?.reason).toMatch(/5 concurrent/);
    t.release('vm1');
    expect(t.admit('vm1', true)).toBeUndefined();
  });

  it('limits the rest of IMDS to 5 requests per second, apart from tokens', () => {
    const c = clock();
    const t = new ImdsThrottle(c);
    for (let i = 0; i < IMDS_LIMITS.metadataPerSecond; i++) expect(t.admit('vm1', false)).toBeUndefined();
    expect(t.admit('vm1', false)?.reason).toMatch(/5 requests per second/);
    expect(t.admit('vm1', true)).toBeUndefined();
    c.t += 1000;
    expect(t.admit('vm1', false)).toBeUndefined();
  });

  it('does not count refused requests against the budget', () => {
    const c = clock();
    const t = new ImdsThrottle(c, { identityPerSecond: 2, identityConcurrent: 10, metadataPerSecond: 1 });
    t.admit('vm1', true);
    t.admit('vm1', true);
    for (let i = 0; i < 50; i++) expect(t.admit('vm1', true)).toBeDefined();
    c.t += 1000;
    expect(t.admit('vm1', true)).toBeUndefined();
    expect(t.admit('vm1', true)).toBeUndefined();
    expect(t.admit('vm1', true)).toBeDefined();
  });
});
