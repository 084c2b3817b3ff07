import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyFederatedAssertion } from '../../../src/federation/federated-assertion.js';
import { IssuerKeyResolver, type IssuerKeySource } from '../../../src/federation/issuer-keys.js';
import { decodeJwt, verifySignature } from '../../../src/federation/jwt.js';
import { WorkloadIssuer } from '../../../src/federation/workload-issuer.js';
import type { FicRecord } from '../../../src/federation/fic-rules.js';
import type { KeylessError } from '../../../src/core/errors.js';
import { fixture, type Fixture } from '../tokens/helpers.js';
import { makeKey, signJwt, type TestIssuerKey } from '../../integration/federation/helpers.js';

const LOCAL = 'https://localhost:8443/keyless/oidc/72f988bf-86f1-41af-91ab-2d7cd011db47';
const EXT = 'https://oidc.example.com/cluster/';
const fic = (issuer: string, subject: string): FicRecord => ({ name: 'f', properties: { issuer, subject, audiences: ['api://AzureADTokenExchange'] } });

describe('federated assertions', () => {
  let f: Fixture;
  let issuer: WorkloadIssuer;
  let extKeys: TestIssuerKey[];
  let fetched = 0;
  let keys: IssuerKeySource;
  const now = () => Math.floor(f.clock.now() / 1000);
  const ext = (claims: Record<string, unknown>, key = extKeys[0]!, header: Record<string, unknown> = {}) =>
    signJwt({ alg: key.alg, kid: key.kid, ...header }, { iss: EXT, sub: 'sa', aud: 'api://AzureADTokenExchange', nbf: now(), exp: now() + 600, ...claims }, key.privateKey);
  const verify = (token: string, fics = [fic(LOCAL, 'local-sub'), fic(EXT, 'sa')]) => verifyFederatedAssertion(decodeJwt(token), fics, { keys, clock: f.clock, skewSec: 300 });
  async function code(p: Promise<unknown>): Promise<number> {
    try {
      await p;
    } catch (e) {
      return (e as KeylessError).extra['aadstsCode'] as number;
    }
    throw new Error('expected a failure');
  }

  beforeAll(async () => {
    f = await fixture();
    issuer = new WorkloadIssuer(LOCAL, f.keys, f.clock);
    extKeys = [makeKey('RS256', 'rs'), makeKey('PS256', 'ps'), makeKey('ES256', 'es')];
    const external: IssuerKeySource = {
      async keysFor() {
        fetched++;
        const { parseJwks } = await import('../../../src/federation/issuer-keys.js');
        return parseJwks(extKeys.map((k) => k.publicJwk));
      },
    };
    keys = new IssuerKeyResolver(new Map([[LOCAL, issuer]]), external);
  });

  it("Keyless's own workload tokens verify in-process, without touching the external source", async () => {
    const before = fetched;
    const t = issuer.mint({ subject: 'local-sub', lifetimeSec: 600 });
    expect((await verify(t.token)).properties.subject).toBe('local-sub');
    expect(fetched).toBe(before);
    const claims = decodeJwt(t.token).payload;
    expect(claims).toMatchObject({ iss: LOCAL, sub: 'local-sub', aud: ['api://AzureADTokenExchange'] });
    expect(Number(claims['exp']) - Number(claims['iat'])).toBe(600);
  });

  it('workload tokens last at most an hour', () => {
    expect(() => issuer.mint({ subject: 's', lifetimeSec: 3601 })).toThrow(/lifetimeSeconds/);
    expect(() => issuer.mint({ subject: 's', lifetimeSec: 10 })).toThrow(/lifetimeSeconds/);
  });

  it('the workload issuer publishes a discovery document and its JWKS (public parts only)', () => {
    expect(issuer.discovery()).toMatchObject({ issuer: LOCAL, jwks_uri: `${LOCAL}/openid/v1/jwks` });
    for (const k of issuer.jwks().keys) {
      expect(k['kty']).toBe('RSA');
      expect(k['d']).toBeUndefined();
    }
  });

  it.each(['rs', 'ps', 'es'])('accepts an external token signed with %s256', async (kid) => {
    const key = extKeys.find((k) => k.kid === kid)!;
    await expect(verify(ext({}, key))).resolves.toBeDefined();
  });

  it('a kid the issuer does not publish → AADSTS7000272; a wrong signature → AADSTS7000274', async () => {
    expect(await code(verify(ext({}, { ...extKeys[0]!, kid: 'nope' })))).toBe(7000272);
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect(await code(verify(ext({}, { ...extKeys[0]!, privateKey: stranger })))).toBe(7000274);
  });

  it('an algorithm outside RS256/PS256/ES256 → AADSTS5002738 (alg none and HS256 included)', async () => {
    const [, p] = ext({}).split('.');
    for (const alg of ['none', 'HS256', 'RS512']) {
      const h = Buffer.from(JSON.stringify({ alg, kid: 'rs' })).toString('base64url');
      expect(await code(verify(`${h}.${p}.`))).toBe(5002738);
    }
  });

  it('a key that does not fit the algorithm never verifies (alg confusion)', () => {
    const rsaKey = makeKey('RS256');
    const t = decodeJwt(signJwt({ alg: 'RS256' }, { a: 1 }, rsaKey.privateKey));
    const ec = makeKey('ES256');
    expect(verifySignature(t, 'ES256', createPublicKey({ key: rsaKey.publicJwk as never, format: 'jwk' }))).toBe(false);
    expect(verifySignature(t, 'RS256', createPublicKey({ key: ec.publicJwk as never, format: 'jwk' }))).toBe(false);
    expect(verifySignature(t, 'RS256', createPublicKey({ key: rsaKey.publicJwk as never, format: 'jwk' }))).toBe(true);
  });

  it('expired or not yet valid (beyond 5 minutes of skew) → AADSTS700024; within the skew is fine', async () => {
    expect(await code(verify(ext({ exp: now() - 301 })))).toBe(700024);
    expect(await code(verify(ext({ nbf: now() + 301 })))).toBe(700024);
    await expect(verify(ext({ exp: now() - 200, nbf: now() - 900 }))).resolves.toBeDefined();
    await expect(verify(ext({ nbf: now() + 200 }))).resolves.toBeDefined();
    // Beyond JavaScript's date range: still an AADSTS error, never a 500.
    expect(await code(verify(ext({ nbf: 1e20, exp: 1e21 })))).toBe(700024);
  });

  it('a missing exp, iss or sub is malformed → AADSTS50027', async () => {
    expect(await code(verify(ext({ exp: undefined })))).toBe(50027);
    expect(await code(verify(ext({ sub: undefined })))).toBe(50027);
  });

  it('the same federated token may be exchanged again (the SDKs re-send the token file)', async () => {
    const t = ext({});
    await verify(t);
    await expect(verify(t)).resolves.toBeDefined();
  });
});
