import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BloomSlab, scopeKeyHash } from '../../../src/authz/index.js';

const key = (i: number) => `/subscriptions/00000000-0000-4000-8000-000000000001/resourcegroups/rg-${i}/providers/microsoft.keyvault/vaults/kv-${i}`;

describe('BloomSlab (the by-scope principals\' filters)', () => {
  it('never answers "absent" for a key it holds, in any slot, across growth, clears and reuse', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.string({ minLength: 1, maxLength: 40 }), { maxLength: 60 }), { minLength: 1, maxLength: 300 }), (sets) => {
        const slab = new BloomSlab();
        // 300 slots outgrow the first buffer (256): every slot must survive the copy.
        const slots = sets.map((keys) => {
          const at = slab.alloc();
          for (const k of keys) slab.mark(at, scopeKeyHash(k));
          return at;
        });
        sets.forEach((keys, i) => {
          for (const k of keys) expect(slab.test(slots[i]!, scopeKeyHash(k))).toBe(true);
        });
        expect(new Set(slots).size).toBe(slots.length);
      }),
      { numRuns: 30 },
    );
  });

  it('hands back a released slot empty, so a new principal does not inherit its bits', () => {
    const slab = new BloomSlab();
    const a = slab.alloc();
    for (let i = 0; i < 500; i++) slab.mark(a, scopeKeyHash(key(i)));
    slab.release(a);
    expect(slab.inUse).toBe(0);
    const b = slab.alloc();
    expect(b).toBe(a);
    expect(slab.inUse).toBe(1);
    for (let i = 0; i < 500; i++) expect(slab.test(b, scopeKeyHash(key(i)))).toBe(false);
  });

  it('lets few absent keys through at a million-assignment principal\'s size (~95 scopes)', () => {
    // One probe in 512 bits let ~17 % through here; three probes in 1,024 bits should let ~1.3 % through.
    const slab = new BloomSlab();
    const at = slab.alloc();
    for (let i = 0; i < 95; i++) slab.mark(at, scopeKeyHash(key(i)));
    let through = 0;
    const absent = 20_000;
    for (let i = 1_000; i < 1_000 + absent; i++) if (slab.test(at, scopeKeyHash(key(i)))) through++;
    expect(through / absent).toBeLessThan(0.03);
    // A neighbouring slot is untouched by this one's keys.
    const next = slab.alloc();
    for (let i = 0; i < 95; i++) expect(slab.test(next, scopeKeyHash(key(i)))).toBe(false);
  });
});
