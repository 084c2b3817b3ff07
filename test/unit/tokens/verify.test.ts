import { createHmac, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { SignJWT, exportJWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { KeylessError } from '../../../src/core/errors.js';
import { MAX_TOKEN_CHARS, TokenVerifier, normalizeAudience } from '../../../src/tokens/index.js';
import {
  ARM,
  OTHER_TENANT,
  TENANT,
  V1_ISS,
  V2_ISS,
  armPolicy,
  decodeSegment,
  fixture,
  miRequest,
  reasonOf,
  type Fixture,
} from './helpers.js';

let f: Fixture;
beforeAll(async () => {
  f = await fixture();
});

const enc = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const rs256 = (header: object, payload: object, key: KeyObject): string => {
  const input = `${enc(header)}.${enc(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
};
const hs256 = (header: object, payload: object, secret: Buffer | string): string => {
  const input = `${enc(header)}.${enc(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
};

/** A genuine token's header and claims, to forge variants of. */
function genuine(): { token: string; header: Record<string, unknown>; claims: Record<string, unknown> } {
  const token = f.issuer.issue(miRequest()).token;
  return { token, header: decodeSegment(token, 0), claims: decodeSegment(token, 1) };
}

describe('TokenVerifier: accepts', () => {
  it('a genuine v1 MI token, returning its claims and kid', async () => {
    const t = f.issuer.issue(miRequest());
    const v = await f.verifier.verify(t.token, armPolicy({ tenantId: TENANT }));
    expect(v.kid).toBe(t.kid);
    expect(v.claims).toMatchObject({ aud: ARM, tid: TENANT, oid: miRequest().subjectOid, appid: miRequest().appId });
    expect(v.cached).toBe(false);
    expect(Object.isFrozen(v.claims)).toBe(true);
  });

  it('a v2 token against the v2 issuer', async () => {
    const t = f.issuer.issue(miRequest({ version: 2, kind: 'application' }));
    const v = await f.verifier.verify(t.token, armPolicy());
    expect(v.claims.iss).toBe(V2_ISS(TENANT));
    expect(v.claims.azp).toBe(miRequest().appId);
  });

  it.each([
    ['https://management.azure.com/', 'https://management.azure.com'],
    ['https://management.azure.com', 'https://management.azure.com/'],
    ['HTTPS://Management.Azure.COM/', 'https://management.azure.com'],
    ['https://management.example.test//', 'https://management.example.test/'],
    ['api://C0FFEE00-0000-0000-0000-000000000001', 'api://c0ffee00-0000-0000-0000-000000000001'],
    ['C0FFEE00-0000-0000-0000-000000000001', 'c0ffee00-0000-0000-0000-000000000001'],
  ])('audience %s when %s is allowed', async (aud, allowed) => {
    const t = f.issuer.issue(miRequest({ audience: aud }));
    await expect(f.verifier.verify(t.token, armPolicy({ audiences: [allowed] }))).resolves.toBeTruthy();
  });

  it('keeps the audience path case-sensitive and does not normalize ports', () => {
    expect(normalizeAudience('https://h/Path')).not.toBe(normalizeAudience('https://h/path'));
    expect(normalizeAudience('https://h:443/')).not.toBe(normalizeAudience('https://h/'));
  });

  it('a token expired or premature by less than the skew', async () => {
    const t = f.issuer.issue(miRequest({ lifetimeSec: 3600 }));
    const clock = { now: () => f.clock.now() + (3600 + 299) * 1000 };
    await expect(new TokenVerifier(f.keys, clock).verify(t.token, armPolicy())).resolves.toBeTruthy();
    const early = { now: () => f.clock.now() - 599 * 1000 }; // nbf = now - 300, skew 300
    await expect(new TokenVerifier(f.keys, early).verify(t.token, armPolicy())).resolves.toBeTruthy();
  });
});

describe('TokenVerifier: forgery suite', () => {
  const cases: Array<[string, () => string | Promise<string>, string, Parameters<typeof armPolicy>[0]?]> = [
    ['alg none', () => { const g = genuine(); return `${enc({ ...g.header, alg: 'none' })}.${enc(g.claims)}.`; }, 'alg'],
    ['alg None (case variant) with the genuine signature', () => { const g = genuine(); const [, p, s] = g.token.split('.'); return `${enc({ ...g.header, alg: 'None' })}.${p}.${s}`; }, 'alg'],
    ['HS256 keyed with the RSA public key (PEM)', () => {
      const g = genuine();
      const pem = createPublicKey(f.keys.active().privateKey).export({ type: 'spki', format: 'pem' });
      return hs256({ ...g.header, alg: 'HS256' }, g.claims, pem);
    }, 'alg'],
    ['HS256 keyed with the RSA public key (JWK from the JWKS)', () => {
      const g = genuine();
      const jwk = f.keys.jwks().keys[0]!;
      return hs256({ ...g.header, alg: 'HS256' }, g.claims, JSON.stringify(jwk));
    }, 'alg'],
    ['HS256 via jose SignJWT keyed with the modulus bytes', async () => {
      const g = genuine();
      const secret = Buffer.from(f.keys.jwks().keys[0]!.n, 'base64url');
      return new SignJWT(g.claims).setProtectedHeader({ alg: 'HS256', kid: g.header.kid as string }).sign(secret);
    }, 'alg'],
    ['PS256 (another RSA algorithm)', () => { const g = genuine(); return rs256({ ...g.header, alg: 'PS256' }, g.claims, f.keys.active().privateKey); }, 'alg'],
    ['unknown kid', () => { const g = genuine(); return rs256({ ...g.header, kid: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA', x5t: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA' }, g.claims, f.keys.active().privateKey); }, 'kid'],
    ['no kid', () => { const g = genuine(); return rs256({ typ: 'JWT', alg: 'RS256' }, g.claims, f.keys.active().privateKey); }, 'kid'],
    ['x5t that disagrees with kid', () => { const g = genuine(); return rs256({ ...g.header, x5t: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA' }, g.claims, f.keys.active().privateKey); }, 'kid'],
    ['expired', () => { const g = genuine(); return rs256(g.header, { ...g.claims, exp: Math.floor(f.clock.now() / 1000) - 301 }, f.keys.active().privateKey); }, 'exp'],
    ['nbf in the future beyond skew', () => { const g = genuine(); return rs256(g.header, { ...g.claims, nbf: Math.floor(f.clock.now() / 1000) + 301 }, f.keys.active().privateKey); }, 'nbf'],
    ['no exp', () => { const g = genuine(); const { exp: _exp, ...rest } = g.claims; return rs256(g.header, rest, f.keys.active().privateKey); }, 'malformed'],
    ['wrong aud', () => f.issuer.issue(miRequest({ audience: 'https://vault.azure.net' })).token, 'aud'],
    ['aud as an array', () => { const g = genuine(); return rs256(g.header, { ...g.claims, aud: [ARM] }, f.keys.active().privateKey); }, 'aud'],
    ['wrong iss', () => { const g = genuine(); return rs256(g.header, { ...g.claims, iss: V1_ISS(OTHER_TENANT) }, f.keys.active().privateKey); }, 'iss'],
    ['wrong tid', () => f.issuer.issue(miRequest()).token, 'tid', { tenantId: OTHER_TENANT }],
    ['tampered payload with the original signature', () => {
      const g = genuine();
      const [h, , s] = g.token.split('.');
      return `${h}.${enc({ ...g.claims, oid: 'ffffffff-ffff-ffff-ffff-ffffffffffff' })}.${s}`;
    }, 'sig'],
    ['tampered header (typ) with the original signature', () => {
      const g = genuine();
      const [, p, s] = g.token.split('.');
      return `${enc({ ...g.header, typ: 'at+jwt' })}.${p}.${s}`;
    }, 'sig'],
    ['truncated signature', () => genuine().token.slice(0, -10), 'sig'],
    ['truncated to two segments', () => genuine().token.split('.').slice(0, 2).join('.'), 'malformed'],
    ['empty signature', () => genuine().token.replace(/[^.]+$/, ''), 'malformed'],
    ['four segments', () => `${genuine().token}.AAAA`, 'malformed'],
    ['non-base64url characters in the payload', () => { const [h, p, s] = genuine().token.split('.'); return `${h}.${p}+/=.${s}`; }, 'malformed'],
    ['header that is not JSON', () => { const [, p, s] = genuine().token.split('.'); return `${enc('not json')}.${p}.${s}`; }, 'malformed'],
    ['header that is a JSON array', () => { const [, p, s] = genuine().token.split('.'); return `${enc([1])}.${p}.${s}`; }, 'malformed'],
    ['oversized header', () => { const g = genuine(); return rs256({ ...g.header, pad: 'x'.repeat(MAX_TOKEN_CHARS) }, g.claims, f.keys.active().privateKey); }, 'size'],
    ['crit header (validly signed)', () => { const g = genuine(); return rs256({ ...g.header, crit: ['exp'] }, g.claims, f.keys.active().privateKey); }, 'header'],
    ['embedded jwk header with the attacker key', async () => {
      const g = genuine();
      const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
      return rs256({ ...g.header, jwk: await exportJWK(attacker.publicKey) }, g.claims, attacker.privateKey);
    }, 'header'],
    ['jku header', () => { const g = genuine(); return rs256({ ...g.header, jku: 'https://evil.example/keys' }, g.claims, f.keys.active().privateKey); }, 'header'],
    ['x5u header', () => { const g = genuine(); return rs256({ ...g.header, x5u: 'https://evil.example/cert' }, g.claims, f.keys.active().privateKey); }, 'header'],
    ['embedded x5c header', () => { const g = genuine(); return rs256({ ...g.header, x5c: f.keys.jwks().keys[0]!.x5c }, g.claims, f.keys.active().privateKey); }, 'header'],
    ['signed by a different RSA key with a valid-looking (real) kid', () => {
      const g = genuine();
      const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
      return rs256(g.header, { ...g.claims, oid: 'ffffffff-ffff-ffff-ffff-ffffffffffff' }, attacker.privateKey);
    }, 'sig'],
    ['signed by a different RSA key claiming the next key kid', () => {
      const g = genuine();
      const next = f.keys.jwks().keys.find((k) => k.kid !== f.keys.active().kid)!.kid;
      const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
      return rs256({ ...g.header, kid: next, x5t: next }, g.claims, attacker.privateKey);
    }, 'sig'],
  ];

  it.each(cases)('rejects: %s', async (_name, make, reason, policy) => {
    const token = await make();
    let err: unknown;
    try {
      await f.verifier.verify(token, armPolicy(policy));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KeylessError);
    const k = err as KeylessError;
    expect(k.extra.reason).toBe(reason);
    expect(k.status).toBe(401);
    expect(k.code).toBe('InvalidAuthenticationToken');
    expect(k.detail).toContain(`(${reason})`);
  });

  it('rejects a non-string and an empty token as malformed', async () => {
    expect(await reasonOf(f.verifier.verify(undefined as unknown as string, armPolicy()))).toBe('malformed');
    expect(await reasonOf(f.verifier.verify('', armPolicy()))).toBe('malformed');
  });

  it('never caches a rejected token', async () => {
    const before = f.verifier.stats().cacheSize;
    const g = genuine();
    const [h, , s] = g.token.split('.');
    const forged = `${h}.${enc({ ...g.claims, oid: 'x' })}.${s}`;
    expect(await reasonOf(f.verifier.verify(forged, armPolicy()))).toBe('sig');
    expect(await reasonOf(f.verifier.verify(forged, armPolicy()))).toBe('sig');
    expect(f.verifier.stats().cacheSize).toBe(before);
  });
});

describe('TokenVerifier: public messages mirror ARM', () => {
  const messageOf = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('expected rejection');
  };

  it('invalid, expired, wrong issuer, wrong audience', async () => {
    const g = genuine();
    expect(await messageOf(f.verifier.verify(g.token.slice(0, -5), armPolicy()))).toBe('The access token is invalid.');

    const t = f.issuer.issue(miRequest({ lifetimeSec: 3600 }));
    const later = new TokenVerifier(f.keys, { now: () => f.clock.now() + 7200 * 1000 });
    expect(await messageOf(later.verify(t.token, armPolicy()))).toMatch(
      /^The access token expiry UTC time '1\/15\/2025 1:00:00 PM' is earlier than current UTC time '1\/15\/2025 2:00:00 PM'\.$/,
    );

    const wrongIss = await messageOf(f.verifier.verify(t.token, armPolicy({ issuers: [V1_ISS(OTHER_TENANT)] })));
    expect(wrongIss).toContain(`The access token is from the wrong issuer '${V1_ISS(TENANT)}'. It must match the tenant '${V1_ISS(OTHER_TENANT)}' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/${OTHER_TENANT}' to get the token.`);

    const wrongAud = await messageOf(f.verifier.verify(t.token, armPolicy({ audiences: ['https://vault.azure.net'] })));
    expect(wrongAud).toBe(`The access token has been obtained for wrong audience or resource '${ARM}'. It should exactly match with one of the allowed audiences 'https://vault.azure.net'.`);
  });

  it('carries the ARM-specific code in extra.armCode', async () => {
    const t = f.issuer.issue(miRequest());
    const e = (await f.verifier.verify(t.token, armPolicy({ audiences: ['x'] })).catch((x: unknown) => x)) as KeylessError;
    expect(e.extra).toEqual({ reason: 'aud', armCode: 'InvalidAuthenticationTokenAudience' });
  });
});

/** A token verified (so cached) under a key that two rotations and the maximum lifetime then purged. */
async function cachedTokenOfPurgedKey(): Promise<{ verifier: TokenVerifier; token: string }> {
  const fx = await fixture();
  const t = fx.issuer.issue(miRequest({ lifetimeSec: 3600 }));
  await fx.verifier.verify(t.token, armPolicy());
  await fx.keys.rotate();
  await fx.keys.rotate();
  fx.clock.advance(fx.keys.maxTokenLifetimeSec + 600);
  return { verifier: fx.verifier, token: t.token };
}

describe('TokenVerifier: cache', () => {
  it('checks the signature once per token; later calls are cache hits', async () => {
    const { issuer, keys, clock } = f;
    const v = new TokenVerifier(keys, clock);
    const t = issuer.issue(miRequest());
    const first = await v.verify(t.token, armPolicy());
    const second = await v.verify(t.token, armPolicy());
    expect(first.cached).toBe(false);
    expect(second.cached).toBe(true);
    expect(second.claims).toBe(first.claims);
    expect(v.stats()).toEqual({ signatureChecks: 1, cacheHits: 1, cacheSize: 1 });
  });

  it('still applies the policy of each call to a cached token', async () => {
    const v = new TokenVerifier(f.keys, f.clock);
    const t = f.issuer.issue(miRequest());
    await v.verify(t.token, armPolicy());
    expect(await reasonOf(v.verify(t.token, armPolicy({ audiences: ['https://vault.azure.net'] })))).toBe('aud');
    expect(await reasonOf(v.verify(t.token, armPolicy({ issuers: [V1_ISS(OTHER_TENANT)] })))).toBe('iss');
    expect(await reasonOf(v.verify(t.token, armPolicy({ tenantId: OTHER_TENANT })))).toBe('tid');
    expect(v.stats().signatureChecks).toBe(1);
  });

  it('rejects a cached token once it expires (injected clock) and drops it', async () => {
    const fx = await fixture();
    const t = fx.issuer.issue(miRequest({ lifetimeSec: 3600 }));
    await fx.verifier.verify(t.token, armPolicy());
    fx.clock.advance(3600 + 299);
    await expect(fx.verifier.verify(t.token, armPolicy())).resolves.toMatchObject({ cached: true });
    fx.clock.advance(1);
    expect(await reasonOf(fx.verifier.verify(t.token, armPolicy()))).toBe('exp');
    expect(fx.verifier.stats()).toMatchObject({ signatureChecks: 1, cacheSize: 0 });
    expect(await reasonOf(fx.verifier.verify(t.token, armPolicy()))).toBe('exp');
  });

  it('verifyIfCached answers only what a cache hit of verify would accept, without a promise', async () => {
    const fx = await fixture();
    const t = fx.issuer.issue(miRequest({ lifetimeSec: 3600 }));
    expect(fx.verifier.verifyIfCached(t.token, armPolicy())).toBeUndefined(); // never verified
    const first = await fx.verifier.verify(t.token, armPolicy());
    expect(fx.verifier.verifyIfCached(t.token, armPolicy())).toEqual({ claims: first.claims, kid: first.kid, cached: true });
    // Each call's policy still applies; a failure is left to verify, which names it.
    expect(fx.verifier.verifyIfCached(t.token, armPolicy({ audiences: ['https://vault.azure.net'] }))).toBeUndefined();
    expect(fx.verifier.verifyIfCached(t.token, armPolicy({ tenantId: OTHER_TENANT }))).toBeUndefined();
    expect(fx.verifier.verifyIfCached(`${t.token}x`, armPolicy())).toBeUndefined();
    fx.verifier.invalidateWhere(() => true);
    expect(fx.verifier.verifyIfCached(t.token, armPolicy())).toBeUndefined();
    await fx.verifier.verify(t.token, armPolicy());
    fx.clock.advance(3600 + 300);
    expect(fx.verifier.verifyIfCached(t.token, armPolicy())).toBeUndefined(); // expired
    // A retired key: verify reports kid; verifyIfCached does not vouch for it.
    const retired = await cachedTokenOfPurgedKey();
    expect(retired.verifier.verifyIfCached(retired.token, armPolicy({ clockSkewSec: 10 * 86_400 }))).toBeUndefined();
  });

  it('invalidateWhere drops the tokens of one identity only', async () => {
    const v = new TokenVerifier(f.keys, f.clock);
    const a = f.issuer.issue(miRequest({ subjectOid: 'deleted' })).token;
    const b = f.issuer.issue(miRequest({ subjectOid: 'kept' })).token;
    await v.verify(a, armPolicy());
    await v.verify(b, armPolicy());
    expect(v.invalidateWhere((c) => c.oid === 'deleted')).toBe(1);
    await v.verify(a, armPolicy());
    await v.verify(b, armPolicy());
    expect(v.stats()).toMatchObject({ signatureChecks: 3, cacheHits: 1 });
    v.clear();
    expect(v.stats().cacheSize).toBe(0);
  });

  it('a cached token whose key is purged fails with reason kid', async () => {
    const retired = await cachedTokenOfPurgedKey();
    expect(await reasonOf(retired.verifier.verify(retired.token, armPolicy({ clockSkewSec: 10 * 86_400 })))).toBe('kid');
  });

  it('is bounded (LRU) and can be disabled', async () => {
    const v = new TokenVerifier(f.keys, f.clock, { cacheSize: 2 });
    const tokens = [1, 2, 3].map(() => f.issuer.issue(miRequest()).token);
    for (const t of tokens) await v.verify(t, armPolicy());
    expect(v.stats().cacheSize).toBe(2);
    await v.verify(tokens[0]!, armPolicy()); // evicted: checked again
    expect(v.stats().signatureChecks).toBe(4);

    const off = new TokenVerifier(f.keys, f.clock, { cacheSize: 0 });
    await off.verify(tokens[1]!, armPolicy());
    await off.verify(tokens[1]!, armPolicy());
    expect(off.stats()).toEqual({ signatureChecks: 2, cacheHits: 0, cacheSize: 0 });
  });
});
