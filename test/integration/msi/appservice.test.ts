import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { startTestKeyless, arm, http, adminToken } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';

/**
 * Microsoft.Web/sites and the App Service identity protocol on the wire (2019-08-01 and 2017-09-01): the
 * secret binds the caller to one site, App Service's error bodies, and App Service's own selection rules.
 */
describe('App Service identity endpoint (Microsoft.Web/sites)', () => {
  let k: StartedKeyless;
  let uaiA: any;
  let uaiB: any;
  let site1: any;
  let site2: any;
  let secret1: string;
  let secret2: string;
  const rg = () => `/subscriptions/${k.subscriptionId}/resourceGroups/web-rg`;
  const siteId = (n: string) => `${rg()}/providers/Microsoft.Web/sites/${n}`;
  const endpoint = () => k.endpoints.appServiceIdentityEndpoint;
  const get2019 = (q: string, secret: string | undefined, extra: Record<string, string> = {}) =>
    http('GET', `${endpoint()}?api-version=2019-08-01&${q}`, { headers: { ...(secret === undefined ? {} : { 'X-IDENTITY-HEADER': secret }), ...extra } });

  beforeAll(async () => {
    k = await startTestKeyless();
    expect((await arm(k, 'PUT', rg(), { location: 'westeurope' })).status).toBe(201);
    uaiA = (await arm(k, 'PUT', `${rg()}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/web-a`, { location: 'westeurope' })).json;
    uaiB = (await arm(k, 'PUT', `${rg()}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/web-b`, { location: 'westeurope' })).json;
    const r1 = await arm(k, 'PUT', siteId('site1'), { location: 'westeurope', identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [uaiA.id]: {} } } });
    expect(r1.status, r1.text).toBe(201);
    site1 = r1.json;
    site2 = (await arm(k, 'PUT', siteId('site2'), { location: 'westeurope', kind: 'functionapp', identity: { type: 'UserAssigned', userAssignedIdentities: { [uaiB.id]: {} } } })).json;
    secret1 = (await k.appEnvironment(site1.id))!['IDENTITY_HEADER']!;
    secret2 = (await k.appEnvironment(site2.id))!['IDENTITY_HEADER']!;
  });
  afterAll(async () => k?.stop());

  describe('ARM', () => {
    it('creates a site with the identity property, a default host name and kind "app"; no secret in the body', async () => {
      expect(site1.type).toBe('Microsoft.Web/sites');
      expect(site1.kind).toBe('app');
      expect(site2.kind).toBe('functionapp');
      expect(site1.identity.type).toBe('SystemAssigned, UserAssigned');
      expect(site1.identity.principalId).toMatch(/^[0-9a-f-]{36}$/);
      expect(site1.identity.userAssignedIdentities[uaiA.id].clientId).toBe(uaiA.properties.clientId);
      expect(site1.properties.defaultHostName).toBe('site1.azurewebsites.keyless.localhost');
      expect(site1.properties.state).toBe('Running');
      const got = await arm(k, 'GET', siteId('site1'));
      expect(got.status).toBe(200);
      expect(got.json.identity.principalId).toBe(site1.identity.principalId);
      for (const text of [JSON.stringify(site1), got.text, (await arm(k, 'GET', `${rg()}/providers/Microsoft.Web/sites`)).text]) {
        expect(text).not.toContain(secret1);
        expect(text).not.toMatch(/identityHeader/i);
      }
      expect(secret1).toMatch(/^[0-9A-F]{32}$/);
      expect(secret2).not.toBe(secret1);
    });

    it('refuses a second site of the same name (site names are global DNS names) and invalid names', async () => {
      await arm(k, 'PUT', `/subscriptions/${k.subscriptionId}/resourceGroups/web-rg2`, { location: 'westeurope' });
      const dup = await arm(k, 'PUT', `/subscriptions/${k.subscriptionId}/resourceGroups/web-rg2/providers/Microsoft.Web/sites/SITE1`, { location: 'westeurope' });
      expect(dup.status).toBe(409);
      expect(dup.json.error.code).toBe('Conflict');
      const bad = await arm(k, 'PUT', siteId('-bad-'), { location: 'westeurope' });
      expect(bad.status).toBe(400);
      expect(bad.json.error.code).toBe('InvalidResourceName');
    });

    it('PATCH keeps the secret and the identities (same semantics as a VM)', async () => {
      const r = await arm(k, 'PATCH', siteId('site1'), { tags: { env: 'test' } });
      expect(r.status).toBe(200);
      expect(r.json.identity.principalId).toBe(site1.identity.principalId);
      expect((await k.appEnvironment(site1.id))!['IDENTITY_HEADER']).toBe(secret1);
    });

    it('sets App Service variables for the site (2019 pair for the SDKs, 2017 pair + site name for az)', async () => {
      const env = (await k.appEnvironment(site1.id))!;
      expect(env['IDENTITY_ENDPOINT']).toBe(endpoint());
      expect(env['IDENTITY_ENDPOINT']).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/msi\/token$/);
      expect(env['MSI_ENDPOINT']).toBe(endpoint());
      expect(env['MSI_SECRET']).toBe(secret1);
      expect(env['APPSETTING_WEBSITE_SITE_NAME']).toBe('site1');
      expect(env['WEBSITE_HOSTNAME']).toBe('site1.azurewebsites.keyless.localhost');
      expect(env['REQUESTS_CA_BUNDLE']).toBeTruthy();
      expect(await k.appEnvironment(`${rg()}/providers/Microsoft.Web/sites/nope`)).toBeUndefined();
    });
  });

  describe('2019-08-01 (IDENTITY_ENDPOINT + X-IDENTITY-HEADER)', () => {
    it('returns the system-assigned identity: App Service fields, epoch-seconds strings, resource echoed', async () => {
      const r = await get2019('resource=https%3A%2F%2Fvault.azure.net', secret1);
      expect(r.status, r.text).toBe(200);
      expect(Object.keys(r.json).sort()).toEqual(['access_token', 'client_id', 'expires_in', 'expires_on', 'not_before', 'resource', 'token_type']);
      for (const v of Object.values(r.json)) expect(typeof v).toBe('string');
      expect(r.json.resource).toBe('https://vault.azure.net');
      expect(r.json.token_type).toBe('Bearer');
      expect(r.json.expires_on).toMatch(/^\d{10}$/);
      const claims = decodeJwt(r.json.access_token);
      expect(String(claims.exp)).toBe(r.json.expires_on);
      expect(claims.oid).toBe(site1.identity.principalId);
      expect(claims.appid).toBe(r.json.client_id);
      expect(String(claims['xms_mirid']).toLowerCase()).toBe(site1.id.toLowerCase());
    });

    it.each([
      ['client_id', () => uaiA.properties.clientId],
      ['object_id', () => uaiA.properties.principalId],
      ['principal_id', () => uaiA.properties.principalId],
      ['mi_res_id', () => uaiA.id],
    ])('selects the user-assigned identity by %s', async (name, value) => {
      const r = await get2019(`resource=https://vault.azure.net&${name}=${encodeURIComponent(value())}`, secret1);
      expect(r.status, r.text).toBe(200);
      expect(decodeJwt(r.json.access_token).oid).toBe(uaiA.properties.principalId);
      expect(r.json.client_id).toBe(uaiA.properties.clientId);
    });

    it.each([
      ['a wrong secret', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
      ['no secret', undefined],
    ])('refuses %s with 401 and an App Service error body', async (_n, secret) => {
      const r = await get2019('resource=https://vault.azure.net', secret);
      expect(r.status).toBe(401);
      expect(Object.keys(r.json).sort()).toEqual(['correlationId', 'message', 'statusCode']);
      expect(r.json.statusCode).toBe(401);
      expect(r.json.message).toMatch(/X-IDENTITY-HEADER/);
      expect(r.json.correlationId).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.headers['x-correlation-id']).toBe(r.json.correlationId);
    });

    it("refuses another resource's identity: the secret confines the caller to its own site", async () => {
      const r = await get2019(`resource=https://vault.azure.net&client_id=${uaiB.properties.clientId}`, secret1);
      expect(r.status).toBe(400);
      expect(r.json).toMatchObject({ statusCode: 400, message: 'Unable to load the proper Managed Identity.' });
      const own = await get2019(`resource=https://vault.azure.net&client_id=${uaiB.properties.clientId}`, secret2);
      expect(own.status).toBe(200);
      expect(decodeJwt(own.json.access_token).oid).toBe(uaiB.properties.principalId);
    });

    it('does not fall back to the only user-assigned identity when none is named (App Service, unlike IMDS)', async () => {
      const r = await get2019('resource=https://vault.azure.net', secret2);
      expect(r.status).toBe(400);
      expect(r.json.message).toBe('Unable to load the proper Managed Identity.');
    });

    it.each([
      ['two selectors', `resource=https://vault.azure.net&client_id=x&object_id=y`, 400, /Only one of/],
      ['the 2017 selector spelling', `resource=https://vault.azure.net&clientid=x`, 400, /does not accept 'clientid'/],
      ['no resource', `client_id=x`, 400, /'resource'/],
      ['an unknown resource', `resource=https://unknown.example.org`, 400, /AADSTS500011/],
      ['a duplicated parameter', `resource=https://vault.azure.net&resource=https://storage.azure.com`, 400, /more than once/],
    ])('answers %s with an App Service error body', async (_n, q, status, message) => {
      const r = await get2019(q, secret1);
      expect(r.status).toBe(status);
      expect(r.json.statusCode).toBe(status);
      expect(r.json.message).toMatch(message);
    });

    it('refuses unknown api-versions, other methods and other paths', async () => {
      const v = await http('GET', `${endpoint()}?api-version=2018-02-01&resource=https://vault.azure.net`, { headers: { 'X-IDENTITY-HEADER': secret1 } });
      expect(v.status).toBe(400);
      expect(v.json.message).toMatch(/2019-08-01, 2017-09-01/);
      const post = await http('POST', `${endpoint()}?api-version=2019-08-01&resource=https://vault.azure.net`, { headers: { 'X-IDENTITY-HEADER': secret1 } });
      expect(post.status).toBe(405);
      const other = await http('GET', endpoint().replace('/msi/token', '/metadata/identity/oauth2/token') + '?api-version=2019-08-01', { headers: { 'X-IDENTITY-HEADER': secret1 } });
      expect(other.status).toBe(404);
      expect(other.json.statusCode).toBe(404);
    });
  });

  describe('2017-09-01 (MSI_ENDPOINT + secret: az with APPSETTING_WEBSITE_SITE_NAME, SDK "Azure ML")', () => {
    it("answers az's request form (trailing slash, raw resource) with epoch-seconds expires_on, never a date", async () => {
      const r = await http('GET', `${endpoint()}/?resource=https://management.keyless.localhost/&api-version=2017-09-01`, { headers: { secret: secret1 } });
      expect(r.status, r.text).toBe(200);
      expect(r.json.expires_on).toMatch(/^\d{10}$/);
      expect(r.json.resource).toBe('https://management.keyless.localhost/');
      expect(r.json.token_type).toBe('Bearer');
      expect(decodeJwt(r.json.access_token).tid).toBe(k.tenantId);
    });

    it('selects a user-assigned identity by clientid, and refuses the 2019 spellings', async () => {
      const r = await http('GET', `${endpoint()}?api-version=2017-09-01&resource=https://vault.azure.net&clientid=${uaiA.properties.clientId}`, { headers: { secret: secret1, Metadata: 'true' } });
      expect(r.status).toBe(200);
      expect(decodeJwt(r.json.access_token).oid).toBe(uaiA.properties.principalId);
      const bad = await http('GET', `${endpoint()}?api-version=2017-09-01&resource=https://vault.azure.net&client_id=${uaiA.properties.clientId}`, { headers: { secret: secret1 } });
      expect(bad.status).toBe(400);
    });

    it('reads the secret from the header its version names', async () => {
      const wrongHeader = await http('GET', `${endpoint()}?api-version=2017-09-01&resource=https://vault.azure.net`, { headers: { 'X-IDENTITY-HEADER': secret1 } });
      expect(wrongHeader.status).toBe(401);
      expect(wrongHeader.json.message).toMatch(/secret/);
      const wrongHeader2019 = await get2019('resource=https://vault.azure.net', undefined, { secret: secret1 });
      expect(wrongHeader2019.status).toBe(401);
    });
  });

  describe('VM listener /msi/token (Cloud Shell POST, App Service GET with the VM secret)', () => {
    let vm: any;
    let vmB: any;
    let base: string;
    let vmSecret: string;
    const post = (body: string, headers: Record<string, string> = { Metadata: 'true', 'Content-Type': 'application/x-www-form-urlencoded' }) =>
      http('POST', `${base}/msi/token`, { headers, body });

    beforeAll(async () => {
      vm = (await arm(k, 'PUT', `${rg()}/providers/Microsoft.Compute/virtualMachines/web-vm`, { location: 'westeurope', identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [uaiA.id]: {} } } })).json;
      vmB = (await arm(k, 'PUT', `${rg()}/providers/Microsoft.Compute/virtualMachines/web-vm-b`, { location: 'westeurope', identity: { type: 'SystemAssigned' } })).json;
      base = k.imdsEndpoint(vm.id)!;
      vmSecret = (await k.vmEnvironment(vm.id, { az: true }))!['IDENTITY_HEADER']!;
    });

    it('serves the Cloud Shell POST with IMDS bodies: system-assigned by default', async () => {
      const r = await post('resource=https%3A%2F%2Fmanagement.keyless.localhost%2F');
      expect(r.status, r.text).toBe(200);
      for (const v of Object.values(r.json)) expect(typeof v).toBe('string');
      expect(r.json.expires_on).toMatch(/^\d{10}$/);
      expect(r.json.resource).toBe('https://management.keyless.localhost/');
      expect(decodeJwt(r.json.access_token).oid).toBe(vm.identity.principalId);
    });

    it.each([
      ['client_id = client id', () => `client_id=${uaiA.properties.clientId}`],
      ['client_id = object id (az -u <objectId>)', () => `client_id=${uaiA.properties.principalId}`],
      ['object_id', () => `object_id=${uaiA.properties.principalId}`],
      ['msi_res_id', () => `msi_res_id=${encodeURIComponent(uaiA.id)}`],
    ])('selects the user-assigned identity by %s', async (_n, sel) => {
      const r = await post(`resource=https://vault.azure.net&${sel()}`);
      expect(r.status, r.text).toBe(200);
      expect(decodeJwt(r.json.access_token).oid).toBe(uaiA.properties.principalId);
    });

    it('answers errors in IMDS JSON: no Metadata header, unknown identity, no resource', async () => {
      const noHeader = await post('resource=https://vault.azure.net', { 'Content-Type': 'application/x-www-form-urlencoded' });
      expect(noHeader.status).toBe(400);
      expect(noHeader.json).toEqual({ error: 'invalid_request', error_description: 'Required metadata header not specified' });
      const unknown = await post(`resource=https://vault.azure.net&client_id=${uaiB.properties.clientId}`);
      expect(unknown.status).toBe(400);
      expect(unknown.json).toEqual({ error: 'invalid_request', error_description: 'Identity not found' });
      const noResource = await post('client_id=x');
      expect(noResource.status).toBe(400);
      expect(noResource.json.error).toBe('invalid_request');
      const json = await post('{"resource":"https://vault.azure.net"}', { Metadata: 'true', 'Content-Type': 'application/json' });
      expect(json.status).toBe(415);
      expect(json.json.error).toBe('invalid_request');
    });

    it('serves App Service 2019 and 2017 GETs with the VM secret, and refuses another VM\u2019s secret', async () => {
      const r = await http('GET', `${base}/msi/token?api-version=2019-08-01&resource=https://vault.azure.net&mi_res_id=${encodeURIComponent(uaiA.id)}`, { headers: { 'X-IDENTITY-HEADER': vmSecret } });
      expect(r.status, r.text).toBe(200);
      expect(decodeJwt(r.json.access_token).oid).toBe(uaiA.properties.principalId);
      const r2017 = await http('GET', `${base}/msi/token?api-version=2017-09-01&resource=https://vault.azure.net`, { headers: { secret: vmSecret } });
      expect(r2017.status).toBe(200);
      expect(decodeJwt(r2017.json.access_token).oid).toBe(vm.identity.principalId);
      const otherSecret = (await k.vmEnvironment(vmB.id, { az: true }))!['IDENTITY_HEADER']!;
      expect(otherSecret).not.toBe(vmSecret);
      const cross = await http('GET', `${base}/msi/token?api-version=2019-08-01&resource=https://vault.azure.net`, { headers: { 'X-IDENTITY-HEADER': otherSecret } });
      expect(cross.status).toBe(401);
      const siteSecretHere = await http('GET', `${base}/msi/token?api-version=2019-08-01&resource=https://vault.azure.net`, { headers: { 'X-IDENTITY-HEADER': secret1 } });
      expect(siteSecretHere.status).toBe(401);
    });

    it('still serves IMDS on the same listener', async () => {
      const r = await http('GET', `${base}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net`, { headers: { Metadata: 'true' } });
      expect(r.status).toBe(200);
    });

    it.each([
      [{}, { AZURE_POD_IDENTITY_AUTHORITY_HOST: true }, ['IDENTITY_ENDPOINT', 'MSI_ENDPOINT']],
      [{ az: true }, { AZURE_POD_IDENTITY_AUTHORITY_HOST: true, IDENTITY_ENDPOINT: true, IDENTITY_HEADER: true, MSI_ENDPOINT: true }, ['MSI_SECRET']],
      [{ source: 'cloud-shell' }, { MSI_ENDPOINT: true }, ['IDENTITY_ENDPOINT', 'MSI_SECRET']],
      [{ source: 'azure-ml' }, { MSI_ENDPOINT: true, MSI_SECRET: true, DEFAULT_IDENTITY_CLIENT_ID: true }, ['IDENTITY_ENDPOINT']],
    ] as const)('environment for %o', async (options, present, absent) => {
      const env = (await k.vmEnvironment(vm.id, options as any))!;
      for (const name of Object.keys(present)) expect(env[name], name).toBeTruthy();
      for (const name of absent) expect(env[name], name).toBeUndefined();
      if (env['MSI_ENDPOINT']) expect(env['MSI_ENDPOINT']).toBe(`${base}/msi/token`);
      if (env['DEFAULT_IDENTITY_CLIENT_ID']) expect(env['DEFAULT_IDENTITY_CLIENT_ID']).toBe(decodeJwt((await post('resource=https://vault.azure.net')).json.access_token).appid);
    });

    it('refuses az with the IMDS source: MSI_ENDPOINT would move the SDKs off IMDS', async () => {
      await expect(k.vmEnvironment(vm.id, { az: true, source: 'imds' })).rejects.toThrow(/app-service/);
    });
  });

  describe('ops route /keyless/v1/identity-environment', () => {
    const route = (id: string, q = '') => `${k.endpoints.resourceManager}/keyless/v1/identity-environment?id=${encodeURIComponent(id)}${q}`;

    it('hands the admin a site environment and a VM environment with --az', async () => {
      const t = await adminToken(k);
      const site = await http('GET', route(site1.id), { headers: { authorization: `Bearer ${t}` } });
      expect(site.status, site.text).toBe(200);
      expect(site.json.environment.IDENTITY_HEADER).toBe(secret1);
      const vmId = `${rg()}/providers/Microsoft.Compute/virtualMachines/web-vm`;
      const vm = await http('GET', route(vmId, '&az=true'), { headers: { authorization: `Bearer ${t}` } });
      expect(vm.status, vm.text).toBe(200);
      expect(vm.json.environment.MSI_ENDPOINT).toMatch(/\/msi\/token$/);
      const bad = await http('GET', route(vmId, '&az=true&source=imds'), { headers: { authorization: `Bearer ${t}` } });
      expect(bad.status).toBe(400);
    });

    it("refuses a caller who may not list the site's settings (the secret is in it)", async () => {
      const tok = await get2019(`resource=${encodeURIComponent(k.endpoints.armAudience)}`, secret1);
      expect(tok.status).toBe(200);
      const r = await http('GET', route(site1.id), { headers: { authorization: `Bearer ${tok.json.access_token}` } });
      expect(r.status).toBe(403);
      expect(r.json.error.code).toBe('AuthorizationFailed');
      expect(r.text).not.toContain(secret1);
    });
  });

  it('deleting a site deletes its system identity, and its secret stops working', async () => {
    const del = await arm(k, 'DELETE', siteId('site1'));
    expect(del.status).toBe(200);
    const r = await get2019('resource=https://vault.azure.net', secret1);
    expect(r.status).toBe(401);
  });
});

describe('App Service secrets survive a restart', () => {
  it('keeps the site secret (sealed) and the VM secret (derived) across restarts of the same data directory', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-as-'));
    try {
      let k = await startTestKeyless({ dataDir });
      const rg = `/subscriptions/${k.subscriptionId}/resourceGroups/r`;
      await arm(k, 'PUT', rg, { location: 'westeurope' });
      const site = (await arm(k, 'PUT', `${rg}/providers/Microsoft.Web/sites/restart-site`, { location: 'westeurope', identity: { type: 'SystemAssigned' } })).json;
      const vm = (await arm(k, 'PUT', `${rg}/providers/Microsoft.Compute/virtualMachines/restart-vm`, { location: 'westeurope', identity: { type: 'SystemAssigned' } })).json;
      const before = { site: (await k.appEnvironment(site.id))!['IDENTITY_HEADER'], vm: (await k.vmEnvironment(vm.id, { az: true }))!['IDENTITY_HEADER'] };
      await k.stop();
      k = await startTestKeyless({ dataDir });
      try {
        expect((await k.appEnvironment(site.id))!['IDENTITY_HEADER']).toBe(before.site);
        expect((await k.vmEnvironment(vm.id, { az: true }))!['IDENTITY_HEADER']).toBe(before.vm);
        const r = await http('GET', `${k.endpoints.appServiceIdentityEndpoint}?api-version=2019-08-01&resource=https://vault.azure.net`, { headers: { 'X-IDENTITY-HEADER': before.site! } });
        expect(r.status).toBe(200);
        expect(decodeJwt(r.json.access_token).oid).toBe(site.identity.principalId);
      } finally {
        await k.stop();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
