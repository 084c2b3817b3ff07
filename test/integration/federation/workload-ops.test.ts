import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { adminToken, arm, http, startTestKeyless } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';

const API = 'api-version=2023-01-31';

/** `POST /keyless/v1/workload-identity/token`: what `keyless run --workload-identity` asks the server for. */
describe('ops: workload identity tokens', () => {
  let k: StartedKeyless;
  let admin: string;
  let identityId: string;
  let otherId: string;
  let clientId: string;
  const post = (body: unknown, token?: string) =>
    http('POST', `${k.endpoints.resourceManager}/keyless/v1/workload-identity/token`, {
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const appToken = async (name: string) => {
    const app = await k.createApplication(name);
    const r = await http('POST', `${k.endpoints.authority}/oauth2/v2.0/token`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret, scope: `${k.endpoints.armAudience}.default` }).toString(),
    });
    return { app, token: r.json.access_token as string };
  };

  beforeAll(async () => {
    k = await startTestKeyless();
    admin = await adminToken(k);
    const g = `/subscriptions/${k.subscriptionId}/resourceGroups/ops-rg`;
    await arm(k, 'PUT', g, { location: 'westeurope' }, admin);
    const a = await arm(k, 'PUT', `${g}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ops-a?${API}`, { location: 'westeurope' }, admin);
    const b = await arm(k, 'PUT', `${g}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ops-b?${API}`, { location: 'westeurope' }, admin);
    identityId = a.json.id;
    otherId = b.json.id;
    clientId = a.json.properties.clientId;
  });
  afterAll(async () => k?.stop());

  it('returns a token from the workload issuer and the environment for the identity', async () => {
    const r = await post({ identity: identityId, subject: 'svc' }, admin);
    expect(r.status, r.text).toBe(200);
    expect(r.json.environment).toEqual({
      AZURE_AUTHORITY_HOST: k.endpoints.authorityHost,
      AZURE_CLIENT_ID: clientId,
      AZURE_TENANT_ID: k.tenantId,
      NODE_EXTRA_CA_CERTS: k.caFile,
      REQUESTS_CA_BUNDLE: k.caBundleFile,
    });
    const claims = decodeJwt(r.json.token);
    expect(claims).toMatchObject({ iss: k.endpoints.workloadIdentityIssuer, sub: 'svc', aud: ['api://AzureADTokenExchange'] });
    expect(r.json.expiresOn).toBe(claims.exp);
  });

  it('takes an audience and a lifetime of at most an hour', async () => {
    const r = await post({ identity: identityId, subject: 'svc', audience: 'api://custom', lifetimeSeconds: 120 }, admin);
    const claims = decodeJwt(r.json.token);
    expect(claims.aud).toEqual(['api://custom']);
    expect(Number(claims.exp) - Number(claims.iat)).toBe(120);
    const tooLong = await post({ identity: identityId, subject: 'svc', lifetimeSeconds: 7200 }, admin);
    expect(tooLong.status).toBe(400);
    expect(tooLong.json.error.code).toBe('BadRequest');
  });

  it('needs authentication; refuses malformed requests and unknown identities in the ops error shape', async () => {
    expect((await post({ identity: identityId, subject: 'svc' })).status).toBe(401);
    expect((await post('{nope', admin)).status).toBe(400);
    expect((await post({ identity: 'app-wi', subject: 'svc' }, admin)).status).toBe(400);
    expect((await post({ identity: identityId }, admin)).status).toBe(400);
    const missing = await post({ identity: identityId.replace(/ops-a$/, 'ops-z'), subject: 'svc' }, admin);
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('ResourceNotFound');
    expect((await http('GET', `${k.endpoints.resourceManager}/keyless/v1/workload-identity/token`, { headers: { authorization: `Bearer ${admin}` } })).status).toBe(405);
  });

  it('requires permission to use the identity (assign/action) — and every other identity trusting the same subject', async () => {
    const { app, token } = await appToken('ops-caller');
    const denied = await post({ identity: identityId, subject: 'svc' }, token);
    expect(denied.status).toBe(403);
    expect(denied.json.error.code).toBe('AuthorizationFailed');
    expect(denied.json.error.message).toContain('Microsoft.ManagedIdentity/userAssignedIdentities/assign/action');

    await k.assignRole({ principalId: app.objectId, role: 'Managed Identity Operator', scope: identityId });
    expect((await post({ identity: identityId, subject: 'svc' }, token)).status).toBe(200);

    // ops-b trusts the same issuer + subject: a token for it would also work there, so ops-b must be usable too.
    const fic = await arm(k, 'PUT', `${otherId}/federatedIdentityCredentials/shared?${API}`, { properties: { issuer: k.endpoints.workloadIdentityIssuer, subject: 'svc' } }, admin);
    expect(fic.status).toBe(201);
    const shared = await post({ identity: identityId, subject: 'svc' }, token);
    expect(shared.status).toBe(403);
    expect(shared.json.error.message).toContain(otherId);
    expect((await post({ identity: identityId, subject: 'other-svc' }, token)).status).toBe(200);
  });
});
