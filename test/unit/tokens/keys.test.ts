import { createHash, X509Certificate } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { SigningKeys } from '../../../src/tokens/index.js';
import {
  ARM,
  MAX_LIFETIME,
  ManualClock,
  MemoryRepo,
  TestSealer,
  V1_ISS,
  armPolicy,
  fixture,
  miRequest,
  reasonOf,
  TENANT,
} from './helpers.js';

const GRACE_SEC = MAX_LIFETIME + 600;

describe('SigningKeys: creation and persistence', () => {
  it('creates one active and one next key on first start', async () => {
    const { keys, repo } = await fixture();
    const rows = await repo.list();
    expect(rows.map((r) => r.state).sort()).toEqual(['active', 'next']);
    expect(keys.active().state).toBe('active');
    const jwks = keys.jwks();
    expect(jwks.keys).toHaveLength(2);
    expect(jwks.keys[0]!.kid).toBe(keys.active().kid);
    expect(new Set(jwks.keys.map((k) => k.kid)).size).toBe(2);
  });

  it('kid == x5t == base64url SHA-1 thumbprint of x5c[0], and x5c[0] holds the same public key', async () => {
    const { keys } = await fixture();
    for (const jwk of keys.jwks().keys) {
      const der = Buffer.from(jwk.x5c[0]!, 'base64');
      const thumb = createHash('sha1').update(der).digest('base64url');
      expect(jwk.kid).toBe(thumb);
      expect(jwk.x5t).toBe(thumb);
      expect(jwk).toMatchObject({ kty: 'RSA', use: 'sig', e: 'AQAB' });
      const cert = new X509Certificate(der);
      expect(cert.publicKey.export({ format: 'jwk' }).n).toBe(jwk.n);
      expect(cert.verify(cert.publicKey)).toBe(true); // self-signed
      expect(Buffer.from(jwk.n, 'base64url').length).toBe(256); // RSA-2048
    }
  });

  it('publishes public parts only', async () => {
    const { keys } = await fixture();
    for (const jwk of keys.jwks().keys) {
      expect(Object.keys(jwk).sort()).toEqual(['e', 'kid', 'kty', 'n', 'use', 'x5c', 'x5t']);
    }
  });

  it('never stores the private key in clear, and seals it bound to its kid', async () => {
    const { repo, sealer } = await fixture();
    const dump = repo.dump();
    expect(dump).not.toContain('PRIVATE KEY');
    for (const rec of await repo.list()) {
      const pem = sealer.open(rec.sealedPrivateKey, `signing-key:${rec.kid}`).toString('utf8');
      expect(pem).toContain('BEGIN PRIVATE KEY');
      const body = pem.split('\n').slice(1, 3).join('');
      expect(dump).not.toContain(body);
      expect(dump).not.toContain(Buffer.from(pem).toString('base64').slice(0, 40));
      expect(() => sealer.open(rec.sealedPrivateKey, 'signing-key:other')).toThrow();
    }
  });

  it('restart on the same repository keeps the keys, and old tokens still verify', async () => {
    const first = await fixture();
    const token = first.issuer.issue(miRequest()).token;
    const second = await fixture({ clock: first.clock, repo: first.repo, sealer: first.sealer });
    expect(second.keys.active().kid).toBe(first.keys.active().kid);
    expect(second.keys.jwks()).toEqual(first.keys.jwks());
    const v = await second.verifier.verify(token, armPolicy());
    expect(v.claims.aud).toBe(ARM);
  });

  it('refuses to start with the wrong keyring', async () => {
    const first = await fixture();
    await expect(
      SigningKeys.open({ repo: first.repo, sealer: new TestSealer(), clock: first.clock, maxTokenLifetimeSec: MAX_LIFETIME }),
    ).rejects.toThrow();
  });

  it('detects a record whose kid is not its certificate thumbprint', async () => {
    const first = await fixture();
    const rec = (await first.repo.list()).find((r) => r.state === 'next')!;
    await first.repo.upsert({ ...rec, publicJwk: { ...rec.publicJwk, x5c: [(await first.repo.list()).find((r) => r.state === 'active')!.publicJwk.x5c[0]!] } });
    await expect(
      SigningKeys.open({ repo: first.repo, sealer: first.sealer, clock: first.clock, maxTokenLifetimeSec: MAX_LIFETIME }),
    ).rejects.toThrow(/thumbprint/);
  });
});

describe('SigningKeys: rotation', () => {
  it('the next key is in JWKS before it signs; after rotate it signs and the old key still verifies', async () => {
    const f = await fixture();
    const oldActive = f.keys.active().kid;
    const next = f.keys.jwks().keys.find((k) => k.kid !== oldActive)!.kid;
    const before = f.issuer.issue(miRequest());
    expect(before.kid).toBe(oldActive);

    await f.keys.rotate();
    expect(f.keys.active().kid).toBe(next);
    expect(f.keys.byKid(oldActive)?.state).toBe('retired');
    const after = f.issuer.issue(miRequest());
    expect(after.kid).toBe(next);

    const kids = f.keys.jwks().keys.map((k) => k.kid);
    expect(kids).toHaveLength(3);
    expect(kids[0]).toBe(next); // active first
    expect(kids).toContain(oldActive);

    // Independent check against the published key set.
    const jwks = createLocalJWKSet(f.keys.jwks() as never);
    const opts = { currentDate: new Date(f.clock.now()) };
    await expect(jwtVerify(before.token, jwks, opts)).resolves.toBeTruthy();
    await expect(jwtVerify(after.token, jwks, opts)).resolves.toBeTruthy();
    await expect(f.verifier.verify(before.token, armPolicy())).resolves.toMatchObject({ kid: oldActive });
  });

  it('a retired key stays published for its grace period, then is gone and its tokens fail with reason kid', async () => {
    const f = await fixture();
    const oldActive = f.keys.active().kid;
    const token = f.issuer.issue(miRequest({ lifetimeSec: MAX_LIFETIME })).token;
    await f.keys.rotate();

    f.clock.advance(GRACE_SEC - 1);
    expect(f.keys.jwks().keys.map((k) => k.kid)).toContain(oldActive);
    f.clock.advance(1);
    expect(f.keys.jwks().keys.map((k) => k.kid)).not.toContain(oldActive);
    expect(f.keys.byKid(oldActive)).toBeUndefined();
    expect(await reasonOf(f.verifier.verify(token, armPolicy({ clockSkewSec: 10 * 86_400 })))).toBe('kid');

    await f.keys.rotate(); // purges the row
    expect((await f.repo.list()).map((r) => r.kid)).not.toContain(oldActive);
    expect(f.keys.jwks().keys).toHaveLength(3);
  });

  it('a token signed just before rotation verifies until it expires (grace covers the max lifetime)', async () => {
    const f = await fixture();
    const token = f.issuer.issue(miRequest({ lifetimeSec: MAX_LIFETIME }));
    await f.keys.rotate();
    f.clock.advance(MAX_LIFETIME + 299); // still inside the default 300 s skew
    await expect(f.verifier.verify(token.token, armPolicy())).resolves.toBeTruthy();
  });

  it('another replica sees a rotation after reload, and verifies the new key even before it', async () => {
    const a = await fixture();
    const b = await fixture({ clock: a.clock, repo: a.repo, sealer: a.sealer });
    await a.keys.rotate();
    const t = a.issuer.issue(miRequest());
    // B has not reloaded: the new active key is still "next" to B, and next keys verify.
    expect(b.keys.byKid(t.kid)?.state).toBe('next');
    await expect(b.verifier.verify(t.token, armPolicy())).resolves.toBeTruthy();
    await b.keys.reload();
    expect(b.keys.active().kid).toBe(a.keys.active().kid);
    expect(b.keys.jwks()).toEqual(a.keys.jwks());
  });

  it('repairs two active keys (concurrent start): the most recently activated wins, the other is retired', async () => {
    const a = await fixture();
    const clock = new ManualClock(a.clock.ms + 1000);
    const otherRepo = new MemoryRepo();
    await fixture({ clock, repo: otherRepo, sealer: a.sealer });
    for (const rec of await otherRepo.list()) await a.repo.upsert(rec);
    const keys = await SigningKeys.open({ repo: a.repo, sealer: a.sealer, clock, maxTokenLifetimeSec: MAX_LIFETIME });
    const rows = await a.repo.list();
    expect(rows.filter((r) => r.state === 'active')).toHaveLength(1);
    const newer = (await otherRepo.list()).find((r) => r.state === 'active')!.kid;
    expect(keys.active().kid).toBe(newer);
    expect(keys.byKid(a.keys.active().kid)?.state).toBe('retired');
  });

  it('promotes a next key when the active one is missing, and creates a next key when none is left', async () => {
    const a = await fixture();
    const active = a.keys.active().kid;
    const next = a.keys.jwks().keys[1]!.kid;
    await a.repo.remove(active);
    const keys = await SigningKeys.open({ repo: a.repo, sealer: a.sealer, clock: a.clock, maxTokenLifetimeSec: MAX_LIFETIME });
    expect(keys.active().kid).toBe(next);
    expect(keys.jwks().keys).toHaveLength(2);
  });

  it('serializes concurrent rotations', async () => {
    const f = await fixture();
    await Promise.all([f.keys.rotate(), f.keys.rotate()]);
    const rows = await f.repo.list();
    expect(rows.filter((r) => r.state === 'active')).toHaveLength(1);
    expect(rows.filter((r) => r.state === 'next')).toHaveLength(1);
    expect(rows.filter((r) => r.state === 'retired')).toHaveLength(2);
  });

  it('signs v1 tokens the verifier accepts for the issuing tenant', async () => {
    const f = await fixture();
    const t = f.issuer.issue(miRequest());
    const v = await f.verifier.verify(t.token, armPolicy({ tenantId: TENANT }));
    expect(v.claims.iss).toBe(V1_ISS(TENANT));
  });
});

describe('SigningKeys: rotateIfDue', () => {
  it('rotates once across replicas running the same schedule', async () => {
    const a = await fixture();
    const b = await fixture({ clock: a.clock, repo: a.repo, sealer: a.sealer });
    expect(await a.keys.rotateIfDue(3600)).toBe(false);
    a.clock.advance(3600);
    expect(await a.keys.rotateIfDue(3600)).toBe(true);
    expect(await b.keys.rotateIfDue(3600)).toBe(false); // sees A's fresh active key in the repository
    expect(b.keys.active().kid).toBe(a.keys.active().kid);
    expect((await a.repo.list()).filter((r) => r.state === 'retired')).toHaveLength(1);
  });
});
