import { createLocalJWKSet, jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { authContextClassRef } from '../../../src/tokens/index.js';
import {
  ARM,
  DAY,
  MAX_LIFETIME,
  TENANT,
  V1_ISS,
  V2_ISS,
  decodeSegment,
  fixture,
  miRequest,
  type Fixture,
} from './helpers.js';

let f: Fixture;
beforeAll(async () => {
  f = await fixture();
});

const B64URL = /^[A-Za-z0-9_-]+$/;

describe('TokenIssuer: v1 managed-identity token (protocols.md §3)', () => {
  it('has the Entra header: typ, alg RS256, x5t, kid (x5t == kid)', () => {
    const t = f.issuer.issue(miRequest());
    const header = decodeSegment(t.token, 0);
    expect(Object.keys(header)).toEqual(['typ', 'alg', 'x5t', 'kid']);
    expect(header).toEqual({ typ: 'JWT', alg: 'RS256', x5t: f.keys.active().kid, kid: f.keys.active().kid });
    expect(t.kid).toBe(f.keys.active().kid);
  });

  it('carries exactly the §3 claims with the right values', () => {
    const now = Math.floor(f.clock.now() / 1000);
    const req = miRequest({ tenantCreatedAt: 1_600_000_000, xmsAzRid: '/subscriptions/s/resourcegroups/g/providers/Microsoft.App/containerApps/a' });
    const t = f.issuer.issue(req);
    const c = decodeSegment(t.token, 1);
    expect(Object.keys(c)).toEqual([
      'aud', 'iss', 'iat', 'nbf', 'exp', 'aio', 'appid', 'appidacr', 'idp', 'idtyp', 'oid', 'rh', 'sub', 'tid', 'uti',
      'ver', 'xms_az_rid', 'xms_mirid', 'xms_tcdt',
    ]);
    expect(c).toMatchObject({
      aud: ARM,
      iss: `https://sts.windows.net/${TENANT}/`,
      appid: req.appId,
      appidacr: '2',
      idp: `https://sts.windows.net/${TENANT}/`,
      idtyp: 'app',
      oid: req.subjectOid,
      sub: req.subjectOid,
      tid: TENANT,
      ver: '1.0',
      xms_mirid: req.xmsMirid,
      xms_az_rid: req.xmsAzRid,
      xms_tcdt: 1_600_000_000,
    });
    // Entra backdates iat/nbf by 5 min: a 24 h token has exp - iat = 86 700 like the real samples.
    expect(c.iat).toBe(now - 300);
    expect(c.nbf).toBe(c.iat);
    expect(c.exp).toBe(now + DAY);
    expect((c.exp as number) - (c.iat as number)).toBe(86_700);
    expect({ iat: t.iat, nbf: t.nbf, exp: t.exp, uti: t.uti }).toEqual({ iat: c.iat, nbf: c.nbf, exp: c.exp, uti: c.uti });
    for (const k of ['iat', 'nbf', 'exp', 'xms_tcdt']) expect(Number.isInteger(c[k])).toBe(true);
    expect(c.uti).toMatch(B64URL);
    expect(Buffer.from(c.uti as string, 'base64url')).toHaveLength(16);
    expect(typeof c.aio).toBe('string');
    expect(c.rh).toMatch(/^0\.[A-Za-z0-9_-]+\.$/);
  });

  it('echoes the audience verbatim (trailing slash, case) and draws fresh uti/aio/rh per token', () => {
    const a = f.issuer.issue(miRequest({ audience: 'https://Vault.Azure.net' }));
    const b = f.issuer.issue(miRequest({ audience: 'https://Vault.Azure.net' }));
    expect(decodeSegment(a.token, 1).aud).toBe('https://Vault.Azure.net');
    for (const k of ['uti', 'aio', 'rh']) expect(decodeSegment(a.token, 1)[k]).not.toBe(decodeSegment(b.token, 1)[k]);
  });

  it('omits xms_mirid/xms_az_rid/xms_tcdt when not given', () => {
    const c = decodeSegment(f.issuer.issue(miRequest({ xmsMirid: undefined })).token, 1);
    expect(c).not.toHaveProperty('xms_mirid');
    expect(c).not.toHaveProperty('xms_az_rid');
    expect(c).not.toHaveProperty('xms_tcdt');
  });

  it('verifies independently with jose against the published JWKS', async () => {
    const t = f.issuer.issue(miRequest());
    const { payload, protectedHeader } = await jwtVerify(t.token, createLocalJWKSet(f.keys.jwks() as never), {
      algorithms: ['RS256'],
      issuer: V1_ISS(TENANT),
      audience: ARM,
      currentDate: new Date(f.clock.now()),
    });
    expect(protectedHeader.kid).toBe(t.kid);
    expect(payload.oid).toBe(miRequest().subjectOid);
  });

  it('is three base64url segments with a JSON header and payload containing tid (what az decodes)', () => {
    const parts = f.issuer.issue(miRequest()).token.split('.');
    expect(parts).toHaveLength(3);
    for (const p of parts) expect(p).toMatch(B64URL);
    expect(decodeSegment(parts.join('.'), 1).tid).toBe(TENANT);
  });
});

describe('TokenIssuer: issueAsync (thread-pool signing)', () => {
  it('yields the same kind of token, verifiable against the JWKS', async () => {
    const t = await f.issuer.issueAsync(miRequest());
    expect(decodeSegment(t.token, 0)).toEqual(decodeSegment(f.issuer.issue(miRequest()).token, 0));
    expect(decodeSegment(t.token, 1)).toEqual(t.claims);
    const { payload } = await jwtVerify(t.token, createLocalJWKSet(f.keys.jwks() as never), { currentDate: new Date(f.clock.now()) });
    expect(payload.uti).toBe(t.uti);
    await expect(f.issuer.issueAsync(miRequest({ lifetimeSec: 0 }))).rejects.toThrow();
  });
});

describe('TokenIssuer: v2 application token', () => {
  it('uses azp/azpacr, ver 2.0, the v2 issuer, no idp, no x5t header, no xms_mirid', async () => {
    const req = miRequest({ kind: 'application', version: 2, audience: 'api://c0ffee00-0000-0000-0000-000000000001', clientAuth: 'certificate' });
    const t = f.issuer.issue(req);
    const header = decodeSegment(t.token, 0);
    expect(header).toEqual({ typ: 'JWT', alg: 'RS256', kid: f.keys.active().kid });
    const c = decodeSegment(t.token, 1);
    expect(Object.keys(c)).toEqual(['aud', 'iss', 'iat', 'nbf', 'exp', 'aio', 'azp', 'azpacr', 'idtyp', 'oid', 'rh', 'sub', 'tid', 'uti', 'ver']);
    expect(c).toMatchObject({ iss: V2_ISS(TENANT), azp: req.appId, azpacr: '2', ver: '2.0', idtyp: 'app', aud: req.audience });
    const { payload } = await jwtVerify(t.token, createLocalJWKSet(f.keys.jwks() as never), {
      issuer: V2_ISS(TENANT),
      audience: req.audience,
      currentDate: new Date(f.clock.now()),
    });
    expect(payload.azp).toBe(req.appId);
  });

  it('appidacr/azpacr: MI 2, secret 1, certificate 2, federated 2', () => {
    expect(authContextClassRef({ kind: 'managedIdentity' })).toBe('2');
    expect(authContextClassRef({ kind: 'application' })).toBe('1');
    expect(authContextClassRef({ kind: 'application', clientAuth: 'secret' })).toBe('1');
    expect(authContextClassRef({ kind: 'application', clientAuth: 'certificate' })).toBe('2');
    expect(authContextClassRef({ kind: 'application', clientAuth: 'federated' })).toBe('2');
    const c = decodeSegment(f.issuer.issue(miRequest({ kind: 'application', clientAuth: 'secret' })).token, 1);
    expect(c.appidacr).toBe('1');
    expect(c).not.toHaveProperty('xms_mirid'); // only MI tokens carry it
  });
});

describe('TokenIssuer: guards', () => {
  it('adds extra claims but refuses to let them override a standard one', () => {
    const c = decodeSegment(f.issuer.issue(miRequest({ extraClaims: { roles: ['Reader'] } })).token, 1);
    expect(c.roles).toEqual(['Reader']);
    expect(() => f.issuer.issue(miRequest({ extraClaims: { tid: 'evil' } }))).toThrow(/tid/);
    expect(() => f.issuer.issue(miRequest({ extraClaims: { exp: 1 } }))).toThrow(/exp/);
  });

  it('refuses a lifetime beyond what the key set keeps retired keys for', () => {
    expect(() => f.issuer.issue(miRequest({ lifetimeSec: MAX_LIFETIME + 1 }))).toThrow();
    expect(() => f.issuer.issue(miRequest({ lifetimeSec: 0 }))).toThrow();
    expect(() => f.issuer.issue(miRequest({ lifetimeSec: 1.5 }))).toThrow();
    expect(f.issuer.issue(miRequest({ lifetimeSec: MAX_LIFETIME })).exp).toBe(Math.floor(f.clock.now() / 1000) + MAX_LIFETIME);
  });
});
