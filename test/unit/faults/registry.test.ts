import { describe, expect, it } from 'vitest';
import { ShiftableClock, type Clock } from '../../../src/core/clock.js';
import { FaultRegistry, DEFAULT_FAULT_LIFETIME_MS, resourceNames } from '../../../src/faults/index.js';

class ManualClock implements Clock {
  constructor(public t = 1_700_000_000_000) {}
  now(): number {
    return this.t;
  }
}

function setup() {
  const time = new ManualClock();
  const serverClock = new ShiftableClock(time);
  const faults = new FaultRegistry({ serverClock, time });
  return { time, serverClock, faults };
}

describe('FaultRegistry', () => {
  it('applies a counted fault to exactly that many matching requests, then expires it', async () => {
    const { faults } = setup();
    const f = faults.add({ surface: 'imds', status: 410, count: 2 });
    expect(f.remainingCount).toBe(2);
    expect((await faults.take('imds', '/metadata/identity/oauth2/token'))?.id).toBe(f.id);
    expect(faults.list()[0]).toMatchObject({ remainingCount: 1, applied: 1 });
    expect((await faults.take('imds', '/metadata/identity/oauth2/token'))?.status).toBe(410);
    expect(await faults.take('imds', '/metadata/identity/oauth2/token')).toBeUndefined();
    expect(faults.list()).toEqual([]);
    expect(faults.anyActive()).toBe(false);
  });

  it('expires a fault when its time is up, and lists the time that is left', async () => {
    const { faults, time } = setup();
    faults.add({ surface: 'login', latencyMs: 2000, forMs: 30_000 });
    time.t += 10_000;
    expect(faults.list()[0]!.remainingMs).toBe(20_000);
    expect(await faults.take('login', '/t/oauth2/v2.0/token')).toBeDefined();
    time.t += 20_000;
    expect(await faults.take('login', '/t/oauth2/v2.0/token')).toBeUndefined();
    expect(faults.list()).toEqual([]);
  });

  it('gives every fault a default lifetime, so a forgotten one goes away by itself', () => {
    const { faults, time } = setup();
    const f = faults.add({ surface: 'arm', status: 500 });
    expect(f.expiresAt - time.t).toBe(DEFAULT_FAULT_LIFETIME_MS);
  });

  it('matches on surface, path substring and target (name or resource id)', async () => {
    const { faults } = setup();
    const vm1 = '/subscriptions/s/resourcegroups/rg/providers/microsoft.compute/virtualmachines/vm1';
    const vm2 = vm1.replace('vm1', 'vm2');
    faults.add({ surface: 'imds', status: 500, target: 'VM1', path: '/metadata/identity' });
    expect(await faults.take('appservice', '/msi/token', () => resourceNames(vm1))).toBeUndefined();
    expect(await faults.take('imds', '/metadata/instance', () => resourceNames(vm1))).toBeUndefined();
    expect(await faults.take('imds', '/metadata/identity/oauth2/token', () => resourceNames(vm2))).toBeUndefined();
    expect(await faults.take('imds', '/Metadata/Identity/oauth2/token', () => resourceNames(vm1))).toBeDefined();
    faults.clear();
    faults.add({ surface: 'imds', status: 500, target: vm2 });
    expect(await faults.take('imds', '/x', () => resourceNames(vm1))).toBeUndefined();
    expect(await faults.take('imds', '/x', () => resourceNames(vm2))).toBeDefined();
  });

  it('asks for target names only when a candidate fault has a target', async () => {
    const { faults } = setup();
    faults.add({ surface: 'blob', status: 503 });
    let asked = 0;
    await faults.take('blob', '/c/b', () => (asked++, ['acct']));
    expect(asked).toBe(0);
  });

  it('gives the oldest matching fault, one per request', async () => {
    const { faults } = setup();
    const a = faults.add({ surface: 'keyvault', status: 429, retryAfter: 5, count: 1 });
    const b = faults.add({ surface: 'keyvault', status: 500, count: 1 });
    expect((await faults.take('keyvault', '/secrets/x'))?.id).toBe(a.id);
    expect((await faults.take('keyvault', '/secrets/x'))?.id).toBe(b.id);
    expect(await faults.take('keyvault', '/secrets/x')).toBeUndefined();
  });

  it('removes one fault by id or all of them', () => {
    const { faults } = setup();
    const a = faults.add({ surface: 'imds', status: 500 });
    faults.add({ surface: 'login', status: 503 });
    expect(faults.remove('nope')).toBe(false);
    expect(faults.remove(a.id.toUpperCase())).toBe(true);
    expect(faults.list().map((f) => f.surface)).toEqual(['login']);
    expect(faults.clear()).toBe(1);
    expect(faults.list()).toEqual([]);
  });

  it('shifts the server clock while a clock fault lasts; a new shift replaces the old one', () => {
    const { faults, serverClock, time } = setup();
    faults.add({ surface: 'clock', shiftMs: 600_000, forMs: 60_000 });
    expect(serverClock.now() - time.t).toBe(600_000);
    faults.add({ surface: 'clock', shiftMs: -300_000, forMs: 60_000 });
    expect(serverClock.now() - time.t).toBe(-300_000);
    expect(faults.list()).toHaveLength(1);
    // The fault's own lifetime runs on real time, not on the clock it shifted.
    time.t += 59_000;
    expect(faults.list()).toHaveLength(1);
    time.t += 1_000;
    expect(faults.list()).toHaveLength(0);
    expect(serverClock.offset).toBe(0);
    faults.close();
  });

  it('puts the clock back when the clock fault is cleared', () => {
    const { faults, serverClock } = setup();
    faults.add({ surface: 'clock', shiftMs: 120_000 });
    expect(serverClock.offset).toBe(120_000);
    faults.clear();
    expect(serverClock.offset).toBe(0);
  });

  it.each([
    [{ surface: 'nope' }, /Unknown surface/],
    [{ surface: 'imds' }, /needs an effect/],
    [{ surface: 'imds', status: 200 }, /400-599/],
    [{ surface: 'imds', status: 500, connection: 'reset' }, /one or the other/],
    [{ surface: 'imds', retryAfter: 5, latencyMs: 10 }, /retryAfter goes with a status/],
    [{ surface: 'login', status: 500, target: 'x' }, /no target/],
    [{ surface: 'arm', status: 500, count: 0 }, /count/],
    [{ surface: 'arm', status: 500, forMs: 25 * 3_600_000 }, /24h/],
    [{ surface: 'clock' }, /non-zero shift/],
    [{ surface: 'clock', shiftMs: 1000, status: 500 }, /only shift and for/],
    [{ surface: 'imds', status: 500, shiftMs: 1000 }, /clock fault only/],
  ])('refuses %o with a clear message', (input, message) => {
    const { faults } = setup();
    expect(() => faults.add(input as never)).toThrow(message);
  });
});
