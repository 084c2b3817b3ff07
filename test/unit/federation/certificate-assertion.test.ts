import { createHash, X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate, thumbprints, type IssuedCertificate } from '../../../src/pki/index.js';
import { verifyCertificateAssertion, type CertificateAssertionDeps } from '../../../src/federation/certificate-assertion.js';
import { JtiReplayGuard } from '../../../src/federation/jti-guard.js';
import { decodeJwt } from '../../../src/federation/jwt.js';
import { TokenEndpointAudience } from '../../../src/federation/token-endpoint-audience.js';
import type { CertificateCredential, Principal } from '../../../src/directory/index.js';
import type { KeylessError } from '../../../src/core/errors.js';
import { signJwt } from '../../integration/federation/helpers.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const ENDPOINT = `https://localhost:8443/${TENANT}/oauth2/v2.0/token`;
const app: Principal = { objectId: 'a0000000-0000-0000-0000-000000000001', appId: 'b0000000-0000-0000-0000-000000000002', tenantId: TENANT, kind: 'Application', displayName: 'app', resourceId: null, createdAt: 0 };

function credential(c: IssuedCertificate): CertificateCredential {
  const raw = new X509Certificate(c.certPem).raw;
  return {
    id: 'k1',
    objectId: app.objectId,
    displayName: 'cert',
    thumbprintSha1: c.thumbprintHex,
    thumbprintSha256: createHash('sha256').update(raw).digest('hex').toUpperCase(),
    certPem: c.certPem,
    startAt: c.notBefore.getTime(),
    endAt: c.notAfter.getTime(),
  };
}

describe('certificate client assertions', () => {
  let registered: IssuedCertificate;
  let other: IssuedCertificate;
  let clock: { ms: number; now(): number };
  let deps: CertificateAssertionDeps;
  const now = () => Math.floor(clock.ms / 1000);
  const claims = (over: Record<string, unknown> = {}) => ({ aud: ENDPOINT, iss: app.appId, sub: app.appId, nbf: now(), exp: now() + 600, jti: crypto.randomUUID(), ...over });
  const verify = (assertion: string, endpoint = ENDPOINT) => verifyCertificateAssertion(decodeJwt(assertion), assertion, app, endpoint, deps);
  async function failure(p: Promise<unknown>): Promise<{ code: number; error: string; message: string }> {
    try {
      await p;
    } catch (e) {
      const k = e as KeylessError;
      return { code: k.extra['aadstsCode'] as number, error: k.code, message: k.message };
    }
    throw new Error('expected a failure');
  }

  beforeAll(async () => {
    registered = await issueCertificate({ subjectCn: 'registered' });
    other = await issueCertificate({ subjectCn: 'other' });
    clock = { ms: Date.now(), now: () => clock.ms };
    deps = {
      clock,
      skewSec: 300,
      maxRemainingLifetimeSec: 3600,
      audience: new TokenEndpointAudience({ origins: ['https://localhost:8443'], tenants: [TENANT, 'keyless.localhost'] }),
      jti: new JtiReplayGuard(clock),
      certificates: async () => [credential(registered)],
    };
  });

  it('finds the certificate by x5t (SHA-1, RS256) as msal-node sends it', async () => {
    const t = signJwt({ alg: 'RS256', x5t: registered.x5t }, claims(), registered.keyPem);
    expect((await verify(t)).thumbprintSha1).toBe(registered.thumbprintHex);
  });

  it('finds the certificate by x5t#S256 (PS256), as azure-identity with a SHA-256 thumbprint sends it', async () => {
    const t = signJwt({ alg: 'PS256', 'x5t#S256': thumbprints(registered.certPem).x5tS256 }, claims(), registered.keyPem);
    expect((await verify(t)).thumbprintSha1).toBe(registered.thumbprintHex);
  });

  it('an unregistered certificate → AADSTS700027 "not registered", naming the SHA-1 thumbprint in hex', async () => {
    const t = signJwt({ alg: 'RS256', x5t: other.x5t }, claims(), other.keyPem);
    const r = await failure(verify(t));
    expect(r.code).toBe(700027);
    expect(r.error).toBe('invalid_client');
    expect(r.message).toContain('The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found.');
    expect(r.message).toContain(`Thumbprint of key used by client: '${other.thumbprintHex}'`);
    expect(r.message).toContain(`app Id '${app.appId}'`);
  });

  it("the registered certificate's thumbprint with another key's signature → AADSTS700027 invalid signature", async () => {
    const t = signJwt({ alg: 'RS256', x5t: registered.x5t }, claims(), other.keyPem);
    const r = await failure(verify(t));
    expect(r.code).toBe(700027);
    expect(r.message).toContain('Key was found, but use of the key to verify the signature failed');
  });

  it('iss or sub other than the client id → AADSTS700021', async () => {
    const t = signJwt({ alg: 'RS256', x5t: registered.x5t }, claims({ sub: 'someone-else' }), registered.keyPem);
    expect((await failure(verify(t))).code).toBe(700021);
  });

  it.each([
    ['the v1 endpoint', `https://localhost:8443/${TENANT}/oauth2/token`],
    ['the ADFS endpoint', 'https://localhost:8443/adfs/oauth2/token'],
    ['the tenant alias and a trailing slash', 'https://LOCALHOST:8443/keyless.localhost/oauth2/v2.0/token/'],
  ])('accepts an aud naming %s', async (_c, aud) => {
    const t = signJwt({ alg: 'RS256', x5t: registered.x5t }, claims({ aud }), registered.keyPem);
    await expect(verify(t)).resolves.toBeDefined();
  });

  it.each([
    ['another host', `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`],
    ['another tenant', 'https://localhost:8443/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token'],
    ['http', `http://localhost:8443/${TENANT}/oauth2/v2.0/token`],
  ])('an aud naming %s → AADSTS700023', async (_c, aud) => {
    const t = signJwt({ alg: 'RS256', x5t: registered.x5t }, claims({ aud }), registered.keyPem);
    expect((await failure(verify(t))).code).toBe(700023);
  });

  it('expired, not yet valid, or valid for too long → AADSTS700024', async () => {
    for (const c of [{ exp: now() - 301 }, { nbf: now() + 400 }, { exp: now() + 7200 }]) {
      const t = signJwt({ alg: 'RS256', x5t: registered.x5t }, claims(c), registered.keyPem);
      const r = await failure(verify(t));
      expect(r.code).toBe(700024);
      expect(r.message).toMatch(/Client assertion is not within its valid time range\. Current time: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z/);
    }
  });

  it('HS256 or no alg → AADSTS5002738', async () => {
    const t = signJwt({ alg: 'RS256', x5t: registered.x5t }, claims(), registered.keyPem).split('.');
    const forged = [Buffer.from(JSON.stringify({ alg: 'HS256', x5t: registered.x5t })).toString('base64url'), t[1], t[2]].join('.');
    expect((await failure(verify(forged))).code).toBe(5002738);
  });

  it('a different assertion reusing a jti is refused; the same assertion re-sent is not', async () => {
    const jti = crypto.randomUUID();
    const first = signJwt({ alg: 'RS256', x5t: registered.x5t }, claims({ jti }), registered.keyPem);
    await verify(first);
    await verify(first);
    const second = signJwt({ alg: 'RS256', x5t: registered.x5t }, claims({ jti, nbf: now() - 1 }), registered.keyPem);
    expect((await failure(verify(second))).message).toContain('jti');
  });

  it('a certificate outside its validity → AADSTS700027 "key used is expired"', async () => {
    const saved = clock.ms;
    clock.ms = registered.notAfter.getTime() + 1000;
    try {
      const t = signJwt({ alg: 'RS256', x5t: registered.x5t }, claims(), registered.keyPem);
      expect((await failure(verify(t))).message).toContain('The key used is expired');
    } finally {
      clock.ms = saved;
    }
  });
});
