import { describe, expect, it } from 'vitest';
import { JtiReplayGuard } from '../../../src/federation/jti-guard.js';

class Clock {
  constructor(public ms = 1_700_000_000_000) {}
  now(): number {
    return this.ms;
  }
}

const exp = (clock: Clock, inSec: number) => Math.floor(clock.ms / 1000) + inSec;

describe('jti replay protection', () => {
  it('same-assertion (default): the identical assertion may come back (msal-node caches it), a new one with the same jti may not', () => {
    const clock = new Clock();
    const g = new JtiReplayGuard(clock);
    expect(g.admit('app', 'j1', 'assertion-A', exp(clock, 600), 300)).toBe(true);
    expect(g.admit('app', 'j1', 'assertion-A', exp(clock, 600), 300)).toBe(true);
    expect(g.admit('app', 'j1', 'assertion-B', exp(clock, 600), 300)).toBe(false);
  });

  it('strict: every jti is single-use', () => {
    const clock = new Clock();
    const g = new JtiReplayGuard(clock, 'strict');
    expect(g.admit('app', 'j1', 'assertion-A', exp(clock, 600), 300)).toBe(true);
    expect(g.admit('app', 'j1', 'assertion-A', exp(clock, 600), 300)).toBe(false);
  });

  it('jtis are per client: two applications may use the same value', () => {
    const clock = new Clock();
    const g = new JtiReplayGuard(clock, 'strict');
    expect(g.admit('app1', 'j1', 'a', exp(clock, 600), 300)).toBe(true);
    expect(g.admit('APP2', 'j1', 'b', exp(clock, 600), 300)).toBe(true);
    expect(g.admit('app2', 'j1', 'c', exp(clock, 600), 300)).toBe(false);
  });

  it('remembers a jti until exp plus skew, then forgets it', () => {
    const clock = new Clock();
    const g = new JtiReplayGuard(clock, 'strict');
    const e = exp(clock, 600);
    expect(g.admit('app', 'j1', 'a', e, 300)).toBe(true);
    clock.ms += 899_000;
    expect(g.admit('app', 'j1', 'a', e, 300)).toBe(false);
    clock.ms += 2_000;
    expect(g.admit('app', 'j1', 'a', e, 300)).toBe(true);
  });

  it('sweeps expired entries and stays within its bound', () => {
    const clock = new Clock();
    const g = new JtiReplayGuard(clock, 'strict', { maxEntries: 50 });
    for (let i = 0; i < 200; i++) g.admit('app', `j${i}`, `a${i}`, exp(clock, 600), 300);
    expect(g.size).toBeLessThanOrEqual(50);
    clock.ms += 3_600_000;
    g.admit('app', 'late', 'x', exp(clock, 600), 300);
    expect(g.size).toBe(1);
  });
});
