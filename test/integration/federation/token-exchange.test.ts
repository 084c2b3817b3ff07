import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { adminToken, arm, http, startTestKeyless } from '../../support/keyless.js';
import { issueCertificate, type IssuedCertificate } from '../../../src/pki/index.js';
import type { StartedKeyless } from '../../../src/index.js';
import { makeKey, nowSec, signJwt, startOidcIssuer, type TestOidcIssuer } from './helpers.js';

const FIC_API = 'api-version=2023-01-31';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * The token endpoint with hand-made client assertions: workload identity federation for user-assigned identities
 * (Keyless's own issuer and an external HTTPS OIDC issuer) and certificate credentials for applications.
 */
describe('token endpoint: client assertions', () => {
  let k: StartedKeyless;
  let ext: TestOidcIssuer;
  let token: string;
  let uai: { id: string; clientId: string; principalId: string };
  let bare: { id: string; clientId: string };
  const group = () => `/subscriptions/${k.subscriptionId}/resourceGroups/wi-rg`;
  const keys = { rs: makeKey('RS256', 'rs-1'), ps: makeKey('PS256', 'ps-1'), es: makeKey('ES256', 'es-1') };

  const exchange = (clientId: string, assertion: string, opts: { version?: 'v1' | 'v2'; type?: string } = {}) =>
    http('POST', `${k.endpoints.authority}/oauth2/${opts.version === 'v1' ? '' : 'v2.0/'}token`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_assertion_type: opts.type ?? JWT_BEARER,
        client_assertion: assertion,
        ...(opts.version === 'v1' ? { resource: 'https://vault.azure.net' } : { scope: 'https://vault.azure.net/.default' }),
      }).toString(),
    });
  const expectAadsts = (r: { status: number; json: any }, status: number, error: string, code: number) => {
    expect(r.json?.error_codes, JSON.stringify(r.json)).toEqual([code]);
    expect(r.status).toBe(status);
    expect(r.json.error).toBe(error);
    expect(r.json.error_description).toMatch(new RegExp(`^AADSTS${code}: `));
    expect(r.json.error_description).toMatch(/\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: /);
  };
  const createIdentity = async (name: string) => {
    const r = await arm(k, 'PUT', `${group()}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}?${FIC_API}`, { location: 'westeurope' }, token);
    expect(r.status).toBe(201);
    return { id: r.json.id as string, clientId: r.json.properties.clientId as string, principalId: r.json.properties.principalId as string };
  };
  const putFic = async (identityId: string, name: string, issuer: string, subject: string) => {
    const r = await arm(k, 'PUT', `${identityId}/federatedIdentityCredentials/${name}?${FIC_API}`, { properties: { issuer, subject, audiences: ['api://AzureADTokenExchange'] } }, token);
    expect(r.status, r.text).toBe(201);
  };

  beforeAll(async () => {
    k = await startTestKeyless();
    ext = await startOidcIssuer([keys.rs, keys.ps, keys.es]);
    token = await adminToken(k);
    expect((await arm(k, 'PUT', group(), { location: 'westeurope' }, token)).status).toBe(201);
    uai = await createIdentity('workload-a');
    bare = await createIdentity('workload-b');
    await putFic(uai.id, 'keyless-app', k.endpoints.workloadIdentityIssuer, 'app');
    await putFic(uai.id, 'ext-sa', ext.url, 'system:serviceaccount:default:app');
  });
  afterAll(async () => {
    await ext?.close();
    await k?.stop();
  });

  describe('workload identity federation', () => {
    it("exchanges a token from Keyless's own issuer for a managed-identity token of the identity (v2)", async () => {
      const wt = k.issueWorkloadToken({ subject: 'app' });
      expect(wt.issuer).toBe(k.endpoints.workloadIdentityIssuer);
      const r = await exchange(uai.clientId, wt.token);
      expect(r.status, r.text).toBe(200);
      expect(typeof r.json.expires_in).toBe('number');
      const jwks = createLocalJWKSet((await http('GET', k.endpoints.jwksUri)).json);
      const { payload } = await jwtVerify(r.json.access_token, jwks, { issuer: k.endpoints.issuer, audience: 'https://vault.azure.net' });
      expect(payload['oid']).toBe(uai.principalId);
      expect(payload['appid']).toBe(uai.clientId);
      expect(payload['idtyp']).toBe('app');
      expect(String(payload['xms_mirid']).toLowerCase()).toBe(uai.id.toLowerCase());
    });

    it('the v1 endpoint answers the same exchange with string expiries', async () => {
      const r = await exchange(uai.clientId, k.issueWorkloadToken({ subject: 'app' }).token, { version: 'v1' });
      expect(r.status, r.text).toBe(200);
      expect(typeof r.json.expires_on).toBe('string');
      expect(decodeJwt(r.json.access_token)['oid']).toBe(uai.principalId);
    });

    it("the workload issuer's discovery document and JWKS are served over HTTPS without authentication", async () => {
      const d = await http('GET', `${k.endpoints.workloadIdentityIssuer}/.well-known/openid-configuration`);
      expect(d.status).toBe(200);
      expect(d.json.issuer).toBe(k.endpoints.workloadIdentityIssuer);
      const jwks = await http('GET', d.json.jwks_uri);
      expect(jwks.status).toBe(200);
      const { payload } = await jwtVerify(k.issueWorkloadToken({ subject: 'x' }).token, createLocalJWKSet(jwks.json), { issuer: k.endpoints.workloadIdentityIssuer });
      expect(payload.sub).toBe('x');
    });

    it.each(['rs', 'ps', 'es'] as const)('exchanges an external issuer token signed %s (discovery over verified HTTPS)', async (alg) => {
      const r = await exchange(uai.clientId, ext.token({ sub: 'system:serviceaccount:default:app' }, { key: keys[alg] }));
      expect(r.status, r.text).toBe(200);
      expect(decodeJwt(r.json.access_token)['oid']).toBe(uai.principalId);
    });

    it("caches the external issuer's metadata: many exchanges, one discovery", async () => {
      const before = { ...ext.requests };
      for (let i = 0; i < 3; i++) expect((await exchange(uai.clientId, ext.token({ sub: 'system:serviceaccount:default:app' }))).status).toBe(200);
      expect(ext.requests).toEqual(before);
      expect(before.discovery).toBe(1);
    });

    it('wrong subject → 401 AADSTS700213, naming the presented subject', async () => {
      const r = await exchange(uai.clientId, k.issueWorkloadToken({ subject: 'other-app' }).token);
      expectAadsts(r, 401, 'invalid_client', 700213);
      expect(r.json.error_description).toContain("presented assertion subject 'other-app'");
    });

    it('wrong audience → 401 AADSTS700212', async () => {
      const r = await exchange(uai.clientId, k.issueWorkloadToken({ subject: 'app', audience: 'api://not-azure' }).token);
      expectAadsts(r, 401, 'invalid_client', 700212);
    });

    it('an issuer no credential names → 401 AADSTS700211', async () => {
      const t = signJwt({ alg: 'RS256', kid: keys.rs.kid }, { iss: `${ext.url}/`, sub: 'system:serviceaccount:default:app', aud: 'api://AzureADTokenExchange', exp: nowSec() + 600 }, keys.rs.privateKey);
      const r = await exchange(uai.clientId, t);
      expectAadsts(r, 401, 'invalid_client', 700211);
      expect(r.json.error_description).toContain(`presented assertion issuer '${ext.url}/'`);
    });

    it('an identity without any federated credential → 400 AADSTS70021 with issuer, subject and audience', async () => {
      const r = await exchange(bare.clientId, k.issueWorkloadToken({ subject: 'app' }).token);
      expectAadsts(r, 400, 'invalid_request', 70021);
      expect(r.json.error_description).toContain(
        `No matching federated identity record found for presented assertion. Assertion Issuer: '${k.endpoints.workloadIdentityIssuer}'. Assertion Subject: 'app'. Assertion Audience: 'api://AzureADTokenExchange'.`,
      );
    });

    it('expired and not-yet-valid tokens → 401 AADSTS700024', async () => {
      expectAadsts(await exchange(uai.clientId, ext.token({ sub: 'system:serviceaccount:default:app', iat: nowSec() - 4000, nbf: nowSec() - 4000, exp: nowSec() - 400 })), 401, 'invalid_client', 700024);
      expectAadsts(await exchange(uai.clientId, ext.token({ sub: 'system:serviceaccount:default:app', nbf: nowSec() + 600, exp: nowSec() + 1200 })), 401, 'invalid_client', 700024);
    });

    it("a Keyless workload token outlived by the server's clock → AADSTS700024", async () => {
      const wt = k.issueWorkloadToken({ subject: 'app', lifetimeSec: 60 });
      k.clock.shift(60_000 + 301_000);
      try {
        expectAadsts(await exchange(uai.clientId, wt.token), 401, 'invalid_client', 700024);
      } finally {
        k.clock.shift(0);
      }
    });

    it('a bad signature → AADSTS7000274; an unknown kid → AADSTS7000272', async () => {
      const stranger = makeKey('RS256', keys.rs.kid);
      expectAadsts(await exchange(uai.clientId, ext.token({ sub: 'system:serviceaccount:default:app' }, { key: stranger })), 401, 'invalid_client', 7000274);
      const unknown = makeKey('RS256', 'not-published');
      const r = await exchange(uai.clientId, ext.token({ sub: 'system:serviceaccount:default:app' }, { key: unknown }));
      expectAadsts(r, 401, 'invalid_client', 7000272);
      expect(r.json.error_description).toContain(`identifier not-published used to sign the federated credential could not be found in the metadata of identity provider ${ext.url}`);
    });

    it('an algorithm outside RS256/PS256/ES256 → AADSTS5002738; a malformed assertion → 400 AADSTS50027', async () => {
      const t = ext.token({ sub: 'system:serviceaccount:default:app' }).split('.');
      const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${t[1]}.`;
      expectAadsts(await exchange(uai.clientId, none), 401, 'invalid_client', 5002738);
      expectAadsts(await exchange(uai.clientId, 'definitely.not.ajwt'), 400, 'invalid_request', 50027);
    });

    it('an unknown client id → 400 AADSTS700016; a wrong assertion type → 400', async () => {
      expectAadsts(await exchange('00000000-1111-2222-3333-444444444444', k.issueWorkloadToken({ subject: 'app' }).token), 400, 'unauthorized_client', 700016);
      const r = await exchange(uai.clientId, k.issueWorkloadToken({ subject: 'app' }).token, { type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer' });
      expect(r.status).toBe(400);
    });

    it('an issuer whose metadata cannot be fetched → 400 AADSTS50166, without a 500', async () => {
      const down = await startOidcIssuer([makeKey('RS256', 'd1')]);
      down.failWith = 503;
      try {
        await putFic(uai.id, 'down-issuer', down.url, 'svc');
        const r = await exchange(uai.clientId, down.token({ sub: 'svc' }));
        expectAadsts(r, 400, 'invalid_request', 50166);
      } finally {
        await down.close();
      }
    });

    it('deleting a credential stops its exchanges at once; deleting the identity makes the client unknown', async () => {
      const del = await arm(k, 'DELETE', `${uai.id}/federatedIdentityCredentials/ext-sa?${FIC_API}`, undefined, token);
      expect(del.status).toBe(200);
      expectAadsts(await exchange(uai.clientId, ext.token({ sub: 'system:serviceaccount:default:app' })), 401, 'invalid_client', 700211);
      expect((await exchange(uai.clientId, k.issueWorkloadToken({ subject: 'app' }).token)).status).toBe(200);
      expect((await arm(k, 'DELETE', `${uai.id}?${FIC_API}`, undefined, token)).status).toBe(200);
      expectAadsts(await exchange(uai.clientId, k.issueWorkloadToken({ subject: 'app' }).token), 400, 'unauthorized_client', 700016);
    });
  });

  describe('certificate credentials', () => {
    let app: { clientId: string; objectId: string };
    let cert: IssuedCertificate;
    let unregistered: IssuedCertificate;
    const endpoint = () => `${k.endpoints.authority}/oauth2/v2.0/token`;
    const assertion = (c: IssuedCertificate, claims: Record<string, unknown> = {}, header: Record<string, unknown> = { alg: 'RS256', x5t: c.x5t }) =>
      signJwt(header, { aud: endpoint(), iss: app.clientId, sub: app.clientId, nbf: nowSec(), exp: nowSec() + 600, jti: crypto.randomUUID(), ...claims }, c.keyPem);

    beforeAll(async () => {
      app = await k.createApplication('cert-app');
      cert = await issueCertificate({ subjectCn: 'cert-app' });
      unregistered = await issueCertificate({ subjectCn: 'stranger' });
      const r = await k.addApplicationCertificate(app.clientId, cert.certPem);
      expect(r.thumbprint).toBe(cert.thumbprintHex);
    });

    it('a registered certificate authenticates the application: appidacr 2, the app as oid', async () => {
      const r = await exchange(app.clientId, assertion(cert));
      expect(r.status, r.text).toBe(200);
      const claims = decodeJwt(r.json.access_token);
      expect(claims['oid']).toBe(app.objectId);
      expect(claims['appid']).toBe(app.clientId);
      expect(claims['appidacr']).toBe('2');
    });

    it('v1 endpoint, with the v1 endpoint as aud', async () => {
      const r = await exchange(app.clientId, assertion(cert, { aud: `${k.endpoints.authority}/oauth2/token` }), { version: 'v1' });
      expect(r.status, r.text).toBe(200);
    });

    it('an unregistered certificate → 401 AADSTS700027 "not registered", naming its thumbprint', async () => {
      const r = await exchange(app.clientId, assertion(unregistered));
      expectAadsts(r, 401, 'invalid_client', 700027);
      expect(r.json.error_description).toContain(`[Reason - The key was not found., Thumbprint of key used by client: '${unregistered.thumbprintHex}'`);
    });

    it("a registered thumbprint with another key's signature → AADSTS700027 invalid signature", async () => {
      const forged = signJwt({ alg: 'RS256', x5t: cert.x5t }, { aud: endpoint(), iss: app.clientId, sub: app.clientId, exp: nowSec() + 600, jti: 'x' }, unregistered.keyPem);
      const r = await exchange(app.clientId, forged);
      expectAadsts(r, 401, 'invalid_client', 700027);
      expect(r.json.error_description).toContain('Key was found, but use of the key to verify the signature failed');
    });

    it('another audience → AADSTS700023; sub other than the client → AADSTS700021; expired → AADSTS700024', async () => {
      expectAadsts(await exchange(app.clientId, assertion(cert, { aud: 'https://login.microsoftonline.com/common/oauth2/v2.0/token' })), 401, 'invalid_client', 700023);
      expectAadsts(await exchange(app.clientId, assertion(cert, { sub: k.admin.clientId })), 401, 'invalid_client', 700021);
      expectAadsts(await exchange(app.clientId, assertion(cert, { exp: nowSec() - 400 })), 401, 'invalid_client', 700024);
    });

    it('a jti reused by a different assertion is refused; msal-style re-sending of the same assertion is not', async () => {
      const a = assertion(cert, { jti: 'fixed-jti' });
      expect((await exchange(app.clientId, a)).status).toBe(200);
      expect((await exchange(app.clientId, a)).status).toBe(200);
      const b = assertion(cert, { jti: 'fixed-jti', nbf: nowSec() - 5 });
      const r = await exchange(app.clientId, b);
      expect(r.status).toBe(401);
      expect(r.json.error_description).toContain('jti');
    });

    it('only applications take certificates', async () => {
      await expect(k.addApplicationCertificate('00000000-1111-2222-3333-444444444444', cert.certPem)).rejects.toThrow(/No application/);
    });
  });
});
