import { describe, expect, it } from 'vitest';
import { ExternalIssuerKeys, MAX_ISSUER_KEYS, parseJwks } from '../../../src/federation/issuer-keys.js';
import type { KeylessError } from '../../../src/core/errors.js';
import { makeKey } from '../../integration/federation/helpers.js';

const ISS = 'https://oidc.example.com/tenant/cluster/';

function fakeIssuer(jwks: () => unknown[], opts: { issuer?: string; fail?: () => boolean } = {}) {
  const calls: string[] = [];
  const fetch = async (url: string) => {
    calls.push(url);
    if (opts.fail?.()) throw new Error('connect ECONNREFUSED');
    if (url.endsWith('/.well-known/openid-configuration')) return { issuer: opts.issuer ?? ISS, jwks_uri: 'https://oidc.example.com/keys' };
    return { keys: jwks() };
  };
  return { fetch, calls };
}

describe('external issuer keys (OIDC discovery + JWKS)', () => {
  const k1 = makeKey('RS256', 'k1');
  const k2 = makeKey('ES256', 'k2');

  it('discovers {issuer}/.well-known/openid-configuration (no double slash), then the jwks_uri, and caches for the TTL', async () => {
    const clock = { ms: 0, now: () => clock.ms };
    const f = fakeIssuer(() => [k1.publicJwk]);
    const keys = new ExternalIssuerKeys({ clock, fetch: f.fetch, ttlMs: 60_000 });
    expect((await keys.keysFor(ISS, 'k1')).map((k) => k.kid)).toEqual(['k1']);
    expect(f.calls).toEqual(['https://oidc.example.com/tenant/cluster/.well-known/openid-configuration', 'https://oidc.example.com/keys']);
    await keys.keysFor(ISS, 'k1');
    expect(f.calls).toHaveLength(2);
    clock.ms = 60_000;
    await keys.keysFor(ISS, 'k1');
    expect(f.calls).toHaveLength(4);
  });

  it('an unknown kid refetches (key rotation), but at most once a minute', async () => {
    const clock = { ms: 0, now: () => clock.ms };
    let published = [k1.publicJwk];
    const f = fakeIssuer(() => published);
    const keys = new ExternalIssuerKeys({ clock, fetch: f.fetch });
    await keys.keysFor(ISS, 'k1');
    published = [k1.publicJwk, k2.publicJwk];
    clock.ms = 10_000;
    expect((await keys.keysFor(ISS, 'k2')).map((k) => k.kid)).toEqual(['k1']);
    clock.ms = 61_000;
    expect((await keys.keysFor(ISS, 'k2')).map((k) => k.kid)).toEqual(['k1', 'k2']);
  });

  it('refuses a discovery document that names another issuer', async () => {
    const clock = { ms: 0, now: () => clock.ms };
    const keys = new ExternalIssuerKeys({ clock, fetch: fakeIssuer(() => [k1.publicJwk], { issuer: 'https://evil.example.com' }).fetch });
    const e = (await keys.keysFor(ISS, 'k1').catch((x: unknown) => x)) as KeylessError;
    expect(e.extra['aadstsCode']).toBe(50166);
    expect(e.detail).toContain('does not match');
  });

  it('a failing issuer is not retried during the back-off; a key set that worked survives a short outage', async () => {
    const clock = { ms: 0, now: () => clock.ms };
    let down = false;
    const f = fakeIssuer(() => [k1.publicJwk], { fail: () => down });
    const keys = new ExternalIssuerKeys({ clock, fetch: f.fetch, ttlMs: 60_000, failureBackoffMs: 30_000 });
    await keys.keysFor(ISS, 'k1');
    down = true;
    clock.ms = 60_000;
    expect(await keys.keysFor(ISS, 'k1')).toHaveLength(1);
    const calls = f.calls.length;
    clock.ms = 70_000;
    expect(await keys.keysFor(ISS, 'k1')).toHaveLength(1);
    expect(f.calls.length).toBe(calls);
    clock.ms = 200_000;
    const e = (await keys.keysFor(ISS, 'k1').catch((x: unknown) => x)) as KeylessError;
    expect(e.extra['aadstsCode']).toBe(50166);
    const after = f.calls.length;
    await keys.keysFor(ISS, 'k1').catch(() => undefined);
    expect(f.calls.length).toBe(after);
  });

  it('concurrent requests share one fetch', async () => {
    const clock = { ms: 0, now: () => clock.ms };
    const f = fakeIssuer(() => [k1.publicJwk]);
    const keys = new ExternalIssuerKeys({ clock, fetch: f.fetch });
    await Promise.all(Array.from({ length: 10 }, () => keys.keysFor(ISS, 'k1')));
    expect(f.calls).toHaveLength(2);
  });

  it(`keeps only the first ${MAX_ISSUER_KEYS} keys, skips encryption and unusable keys, never reads private members`, () => {
    const many = Array.from({ length: 150 }, (_, i) => ({ ...k1.publicJwk, kid: `k${i}` }));
    expect(parseJwks(many)).toHaveLength(100);
    const mixed = [{ ...k1.publicJwk, use: 'enc' }, { kty: 'oct', k: 'abc' }, { kty: 'EC', crv: 'P-999', x: 'AA', y: 'AA' }, k2.publicJwk];
    expect(parseJwks(mixed).map((k) => k.kid)).toEqual(['k2']);
    const withPrivate = { ...k1.privateKey.export({ format: 'jwk' }), kid: 'p' };
    const [parsed] = parseJwks([withPrivate]);
    expect(parsed!.key.type).toBe('public');
  });
});
