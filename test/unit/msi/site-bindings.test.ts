import { describe, expect, it } from 'vitest';
import { secretHash } from '../../../src/msi/identity-secrets.js';
import { SiteBindings } from '../../../src/msi/site-bindings.js';

function source(rows: { key: string; secret?: string }[]) {
  let loads = 0;
  return {
    rows,
    get loads() {
      return loads;
    },
    async load() {
      loads++;
      return rows.map((r) => ({ key: r.key, hash: r.secret ? secretHash(r.secret) : undefined }));
    },
  };
}

describe('App Service caller binding (secret → site)', () => {
  it('finds a site by its secret with one load, and nothing for a wrong or missing secret', async () => {
    const src = source([{ key: 'a', secret: 'SA' }, { key: 'b', secret: 'SB' }, { key: 'old' }]);
    let now = 0;
    const b = new SiteBindings(src, () => now);
    now = 10_000;
    expect(await b.lookup('SA')).toBe('a');
    expect(await b.lookup('SB')).toBe('b');
    expect(src.loads).toBe(1);
    expect(await b.lookup(undefined)).toBeUndefined();
    expect(await b.lookup('')).toBeUndefined();
    expect(await b.lookup('nope')).toBeUndefined();
  });

  it('a miss reloads at most once a second, so guessing secrets cannot force a scan per request', async () => {
    const src = source([{ key: 'a', secret: 'SA' }]);
    let now = 5_000;
    const b = new SiteBindings(src, () => now);
    await b.lookup('SA');
    for (let i = 0; i < 20; i++) await b.lookup(`guess-${i}`);
    expect(src.loads).toBe(2);
    // A site created elsewhere (another replica) is found on the next allowed reload.
    src.rows.push({ key: 'c', secret: 'SC' });
    expect(await b.lookup('SC')).toBeUndefined();
    now += 1_001;
    expect(await b.lookup('SC')).toBe('c');
  });

  it('invalidate() drops the index: a deleted site stops matching at once', async () => {
    const src = source([{ key: 'a', secret: 'SA' }]);
    const b = new SiteBindings(src, () => 0);
    expect(await b.lookup('SA')).toBe('a');
    src.rows.length = 0;
    b.invalidate();
    expect(await b.lookup('SA')).toBeUndefined();
  });
});
