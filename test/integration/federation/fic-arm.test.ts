import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestKeyless, arm, adminToken } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';

const API = 'api-version=2023-01-31';

/** Federated identity credentials as ARM child resources of a user-assigned identity. */
describe('ARM: userAssignedIdentities/federatedIdentityCredentials', () => {
  let k: StartedKeyless;
  let token: string;
  const uai = (name = 'wi-app') => `/subscriptions/${k.subscriptionId}/resourceGroups/fic-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
  const fic = (name: string, identity = 'wi-app') => `${uai(identity)}/federatedIdentityCredentials/${name}?${API}`;
  const body = (p: Record<string, unknown>) => ({ properties: { issuer: 'https://issuer.example.com/abc', subject: 'system:serviceaccount:default:app', audiences: ['api://AzureADTokenExchange'], ...p } });
  const call = (method: string, path: string, b?: unknown) => arm(k, method, path, b, token);

  beforeAll(async () => {
    k = await startTestKeyless();
    token = await adminToken(k);
    expect((await call('PUT', `/subscriptions/${k.subscriptionId}/resourceGroups/fic-rg`, { location: 'westeurope' })).status).toBe(201);
  });
  afterAll(async () => k?.stop());

  it('a credential under an identity that does not exist is ParentResourceNotFound (404)', async () => {
    const r = await call('PUT', fic('fic1', 'missing'), body({}));
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe('ParentResourceNotFound');
    expect(r.json.error.message).toContain("Parent resource 'missing' not found");
  });

  it('PUT creates (201) with the wire shape arm-msi reads, a second PUT updates (200), GET and list return it', async () => {
    expect((await call('PUT', `${uai()}?${API}`, { location: 'westeurope' })).status).toBe(201);
    const created = await call('PUT', fic('fic1'), body({}));
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      id: `${uai()}/federatedIdentityCredentials/fic1`,
      name: 'fic1',
      type: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials',
      properties: { issuer: 'https://issuer.example.com/abc', subject: 'system:serviceaccount:default:app', audiences: ['api://AzureADTokenExchange'] },
    });
    const updated = await call('PUT', fic('fic1'), body({ subject: 'system:serviceaccount:default:app2' }));
    expect(updated.status).toBe(200);
    expect(updated.json.properties.subject).toBe('system:serviceaccount:default:app2');
    const got = await call('GET', fic('fic1'));
    expect(got.status).toBe(200);
    expect(got.json.properties.subject).toBe('system:serviceaccount:default:app2');
    const list = await call('GET', `${uai()}/federatedIdentityCredentials?${API}`);
    expect(list.status).toBe(200);
    expect(list.json.value.map((v: { name: string }) => v.name)).toEqual(['fic1']);
  });

  it('an omitted audience list defaults to api://AzureADTokenExchange', async () => {
    const r = await call('PUT', fic('defaults'), { properties: { issuer: 'https://issuer.example.com/abc', subject: 'defaults' } });
    expect(r.status).toBe(201);
    expect(r.json.properties.audiences).toEqual(['api://AzureADTokenExchange']);
    expect((await call('DELETE', fic('defaults'))).status).toBe(200);
  });

  it.each([
    ['a name shorter than 3 characters', 'ab', body({}), /Federated Identity Credential name 'ab' is invalid/],
    ['a name starting with a dash', '-abc', body({}), /is invalid/],
    ['a name with a dot', 'a.bc', body({}), /is invalid/],
    ['a 121-character name', 'a'.repeat(121), body({}), /is invalid/],
    ['no properties', 'fic9', {}, /empty properties/],
    ['no subject', 'fic9', { properties: { issuer: 'https://x.example.com' } }, /must specify 'issuer', 'subject' and 'audience'/],
    ['an http issuer', 'fic9', body({ issuer: 'http://issuer.example.com' }), /https/],
    ['an issuer that is not a URL', 'fic9', body({ issuer: 'not a url' }), /not a valid URL/],
    ['an issuer with trailing whitespace', 'fic9', body({ issuer: 'https://issuer.example.com ' }), /whitespace/],
    ['an issuer over 600 characters', 'fic9', body({ issuer: `https://issuer.example.com/${'a'.repeat(600)}` }), /600/],
    ['a subject over 600 characters', 'fic9', body({ subject: 's'.repeat(601) }), /600/],
    ['a subject with leading whitespace', 'fic9', body({ subject: ' sub' }), /whitespace/],
    ['a wildcard subject', 'fic9', body({ subject: 'repo:org/*' }), /Wildcard/],
    ['two audiences', 'fic9', body({ audiences: ['api://AzureADTokenExchange', 'api://other'] }), /exactly 1 audience/],
    ['no audience in the list', 'fic9', body({ audiences: [] }), /exactly 1 audience/],
    ['a claims-matching expression', 'fic9', body({ claimsMatchingExpression: { value: "claims['sub'] matches 'x*'", languageVersion: 1 } }), /claimsMatchingExpression/],
  ])('refuses %s with 400 BadRequest', async (_case, name, b, message) => {
    const r = await call('PUT', fic(name), b);
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('BadRequest');
    expect(r.json.error.message).toMatch(message);
  });

  it('issuer + subject must be unique per identity (compared exactly)', async () => {
    const dup = await call('PUT', fic('fic2'), body({ subject: 'system:serviceaccount:default:app2' }));
    expect(dup.status).toBe(400);
    expect(dup.json.error).toEqual({ code: 'Conflict', message: 'Issuer and subject combination already exists for this Managed Identity.' });
    // A different case is a different subject: matching is case-sensitive.
    expect((await call('PUT', fic('fic2'), body({ subject: 'SYSTEM:serviceaccount:default:app2' }))).status).toBe(201);
  });

  it('at most 20 credentials per identity', async () => {
    const existing = (await call('GET', `${uai()}/federatedIdentityCredentials?${API}`)).json.value.length as number;
    for (let i = existing; i < 20; i++) expect((await call('PUT', fic(`many${i}`), body({ subject: `many-${i}` }))).status).toBe(201);
    const over = await call('PUT', fic('many-over'), body({ subject: 'many-over' }));
    expect(over.status).toBe(400);
    expect(over.json.error.message).toMatch(/maximum number of federated identity credentials \(20\)/);
    // Replacing one of the 20 is still allowed.
    expect((await call('PUT', fic('fic1'), body({ subject: 'replaced' }))).status).toBe(200);
  });

  it('DELETE answers 200, then 204; GET of a missing credential is 404 ResourceNotFound', async () => {
    expect((await call('DELETE', fic('fic2'))).status).toBe(200);
    expect((await call('DELETE', fic('fic2'))).status).toBe(204);
    const r = await call('GET', fic('fic2'));
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe('ResourceNotFound');
    expect(r.json.error.message).toContain("'Microsoft.ManagedIdentity/userAssignedIdentities/wi-app/federatedIdentityCredentials/fic2'");
  });

  it('credentials are deleted with their identity; a re-created identity starts with none', async () => {
    expect((await call('DELETE', `${uai()}?${API}`)).status).toBe(200);
    expect((await call('GET', `${uai()}/federatedIdentityCredentials?${API}`)).status).toBe(404);
    expect((await call('PUT', `${uai()}?${API}`, { location: 'westeurope' })).status).toBe(201);
    const list = await call('GET', `${uai()}/federatedIdentityCredentials?${API}`);
    expect(list.json.value).toEqual([]);
  });

  it('a caller without write permission is refused with AuthorizationFailed before validation', async () => {
    const app = await k.createApplication('reader-app');
    const t = await (await import('../../support/keyless.js')).http('POST', `${k.endpoints.authority}/oauth2/v2.0/token`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret, scope: `${k.endpoints.armAudience}.default` }).toString(),
    });
    const r = await arm(k, 'PUT', fic('fic5'), body({}), t.json.access_token);
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('AuthorizationFailed');
    expect(r.json.error.message).toContain('Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write');
  });
});
