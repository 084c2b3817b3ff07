import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { startTestKeyless, http } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';

/** The Entra-style endpoints: discovery documents, JWKS, and client_credentials with AADSTS errors. */
describe('login: discovery, JWKS and token endpoints', () => {
  let k: StartedKeyless;
  const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
  const post = (path: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
    http('POST', `${k.endpoints.authorityHost}${path}`, { headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: form(body) });
  const creds = () => ({ grant_type: 'client_credentials', client_id: k.admin.clientId, client_secret: k.admin.clientSecret! });

  beforeAll(async () => {
    k = await startTestKeyless();
  });
  afterAll(async () => k?.stop());

  it('v2 discovery names this host as issuer and has the four fields msal requires', async () => {
    const r = await http('GET', k.endpoints.openIdConfiguration);
    expect(r.status).toBe(200);
    for (const f of ['authorization_endpoint', 'token_endpoint', 'issuer', 'jwks_uri']) expect(r.json[f]).toMatch(/^https:\/\/localhost:\d+\//);
    expect(r.json.token_endpoint).toBe(`${k.endpoints.authority}/oauth2/v2.0/token`);
  });

  it('v1 discovery names the sts.windows.net issuer that managed-identity tokens carry', async () => {
    const r = await http('GET', `${k.endpoints.authority}/.well-known/openid-configuration`);
    expect(r.json.issuer).toBe(`https://sts.windows.net/${k.tenantId}/`);
  });

  it('ADFS discovery exists for az 2.45 service-principal login', async () => {
    const r = await http('GET', `${k.endpoints.authorityHost}/adfs/.well-known/openid-configuration`);
    expect(r.status).toBe(200);
    expect(r.json.token_endpoint).toBe(`${k.endpoints.authorityHost}/adfs/oauth2/token`);
  });

  it('JWKS publishes public keys only, kid = x5t', async () => {
    const r = await http('GET', k.endpoints.jwksUri);
    expect(r.json.keys.length).toBeGreaterThanOrEqual(2); // active + next
    for (const key of r.json.keys) {
      expect(key.kty).toBe('RSA');
      expect(key.kid).toBe(key.x5t);
      for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key[priv]).toBeUndefined();
    }
  });

  it('v2 client_credentials: numeric expiry, verifiable token with appidacr 1', async () => {
    const r = await post(`/${k.tenantId}/oauth2/v2.0/token`, { ...creds(), scope: 'https://vault.azure.net/.default' });
    expect(r.status).toBe(200);
    expect(typeof r.json.expires_in).toBe('number');
    const jwks = createLocalJWKSet((await http('GET', k.endpoints.jwksUri)).json);
    const { payload } = await jwtVerify(r.json.access_token, jwks, { issuer: k.endpoints.issuer, audience: 'https://vault.azure.net' });
    expect(payload['appid']).toBe(k.admin.clientId);
    expect(payload['oid']).toBe(k.admin.objectId);
    expect(payload['appidacr']).toBe('1');
  });

  it('v1 and ADFS forms, Basic client authentication, and az-style double-slash scopes', async () => {
    const v1 = await post(`/${k.tenantId}/oauth2/token`, { ...creds(), resource: 'https://management.azure.com/' });
    expect(v1.status).toBe(200);
    expect(v1.json.expires_on).toMatch(/^\d+$/);
    expect(v1.json.resource).toBe('https://management.azure.com/');
    const adfs = await post('/adfs/oauth2/token', { ...creds(), scope: `${k.endpoints.armAudience}/.default`, client_info: '1' });
    expect(adfs.status).toBe(200);
    expect(decodeJwt(adfs.json.access_token).aud).toBe(k.endpoints.armAudience);
    const basic = Buffer.from(`${k.admin.clientId}:${k.admin.clientSecret}`).toString('base64');
    const b = await post(`/${k.tenantId}/oauth2/v2.0/token`, { grant_type: 'client_credentials', scope: 'https://storage.azure.com/.default' }, { authorization: `Basic ${basic}` });
    expect(b.status).toBe(200);
  });

  it.each([
    ['a wrong secret', { client_secret: 'wrong' }, 401, 'invalid_client', 7000215],
    ['an unknown application', { client_id: '11111111-1111-1111-1111-111111111111' }, 400, 'unauthorized_client', 700016],
    ['a scope without /.default', { scope: 'https://vault.azure.net' }, 400, 'invalid_scope', 1002012],
    ['an unknown resource', { scope: 'https://unknown.example.com/.default' }, 400, 'invalid_resource', 500011],
    ['another grant type', { grant_type: 'password' }, 400, 'unsupported_grant_type', 70003],
  ])('refuses %s with its AADSTS error', async (_n, override, status, error, code) => {
    const r = await post(`/${k.tenantId}/oauth2/v2.0/token`, { ...creds(), scope: 'https://vault.azure.net/.default', ...override });
    expect(r.status).toBe(status);
    expect(r.json.error).toBe(error);
    expect(r.json.error_codes).toEqual([code]);
    expect(r.json.error_description).toMatch(new RegExp(`^AADSTS${code}: .*\\r\\nTrace ID: .*\\r\\nCorrelation ID: .*\\r\\nTimestamp: `, 's'));
  });

  it('refuses an unknown tenant (AADSTS90002) and a non-form body', async () => {
    const r = await post(`/not-a-tenant/oauth2/v2.0/token`, { ...creds(), scope: 'https://vault.azure.net/.default' });
    expect(r.status).toBe(400);
    expect(r.json.error_codes).toEqual([90002]);
    const json = await http('POST', `${k.endpoints.authority}/oauth2/v2.0/token`, { headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(400);
    expect(json.json.error).toBe('invalid_request');
  });
});
