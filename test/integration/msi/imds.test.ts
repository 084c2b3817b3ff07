import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { decodeJwt } from 'jose';
import { startTestKeyless, arm, http } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';

/** IMDS on the wire: the request forms real clients send, Azure's error bodies, and caller binding. */
describe('IMDS identity endpoint', () => {
  let k: StartedKeyless;
  let imds1: string;
  let imds2: string;
  let uaiA: any;
  let uaiB: any;
  let vm1: any;
  const rg = () => `/subscriptions/${k.subscriptionId}/resourceGroups/imds-rg`;
  const tokenUrl = (base: string, q: string) => `${base}/metadata/identity/oauth2/token?api-version=2018-02-01&${q}`;
  const get = (url: string, headers: Record<string, string> = { Metadata: 'true' }) => http('GET', url, { headers });

  beforeAll(async () => {
    k = await startTestKeyless();
    expect((await arm(k, 'PUT', rg(), { location: 'westeurope' })).status).toBe(201);
    uaiA = (await arm(k, 'PUT', `${rg()}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai-a`, { location: 'westeurope' })).json;
    uaiB = (await arm(k, 'PUT', `${rg()}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai-b`, { location: 'westeurope' })).json;
    vm1 = (
      await arm(k, 'PUT', `${rg()}/providers/Microsoft.Compute/virtualMachines/vm1`, {
        location: 'westeurope',
        identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [uaiA.id]: {} } },
      })
    ).json;
    await arm(k, 'PUT', `${rg()}/providers/Microsoft.Compute/virtualMachines/vm2`, {
      location: 'westeurope',
      identity: { type: 'UserAssigned', userAssignedIdentities: { [uaiA.id]: {}, [uaiB.id]: {} } },
    });
    imds1 = k.imdsEndpoint(vm1.id)!;
    imds2 = k.imdsEndpoint(`${rg()}/providers/Microsoft.Compute/virtualMachines/vm2`)!;
    expect(imds1).toMatch(/^http:\/\/127\.77\.\d+\.\d+:\d+$/);
    expect(imds2).not.toBe(imds1);
  });
  afterAll(async () => k?.stop());

  it('answers a probe without the Metadata header at once with 400', async () => {
    const r = await get(`${imds1}/metadata/identity/oauth2/token`, {});
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: 'invalid_request', error_description: 'Required metadata header not specified' });
  });

  it('refuses requests that came through a proxy (X-Forwarded-For)', async () => {
    const r = await get(tokenUrl(imds1, 'resource=https://vault.azure.net'), { Metadata: 'true', 'X-Forwarded-For': '10.0.0.1' });
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('invalid_request');
  });

  it('returns every field as a string, expires_on in epoch seconds, resource echoed exactly', async () => {
    const r = await get(tokenUrl(imds1, 'resource=https://vault.azure.net'));
    expect(r.status).toBe(200);
    for (const v of Object.values(r.json)) expect(typeof v).toBe('string');
    expect(r.json.token_type).toBe('Bearer');
    expect(r.json.resource).toBe('https://vault.azure.net');
    expect(r.json.expires_on).toMatch(/^\d{10}$/);
    const claims = decodeJwt(r.json.access_token);
    expect(String(claims.exp)).toBe(r.json.expires_on);
    expect(claims.oid).toBe(vm1.identity.principalId);
    expect(Number(r.json.expires_in)).toBeGreaterThan(23 * 3600);
  });

  it.each([
    ['percent-encoded resource (JS)', 'resource=https%3A%2F%2Fmanagement.azure.com%2F', 'https://management.azure.com/'],
    ['raw resource (Python, az)', 'resource=https://management.azure.com/', 'https://management.azure.com/'],
  ])('decodes a %s', async (_n, q, expected) => {
    const r = await get(tokenUrl(imds1, q));
    expect(r.status).toBe(200);
    expect(r.json.resource).toBe(expected);
    expect(decodeJwt(r.json.access_token).aud).toBe(expected);
  });

  it.each([
    '/metadata/identity/oauth2/token/',
    '//metadata/identity/oauth2/token/',
    '/METADATA/Identity/OAuth2/Token',
  ])('accepts the path form %s', async (path) => {
    const r = await get(`${imds1}${path}?api-version=2018-02-01&resource=https://vault.azure.net`);
    expect(r.status).toBe(200);
  });

  it.each(['/metadata/identity/oauth2/%74oken', '/metadata/identity/../identity/oauth2/token', '/metadata\\identity/oauth2/token', '/metadata/identity//oauth2/token'])(
    'refuses the path trick %s',
    async (path) => {
      const r = await rawRequest(imds1, `GET ${path}?api-version=2018-02-01&resource=https://vault.azure.net HTTP/1.1\r\nHost: x\r\nMetadata: true\r\nConnection: close\r\n\r\n`);
      expect(r).toMatch(/^HTTP\/1\.1 (404|400)/);
    },
  );

  it('requires resource and api-version', async () => {
    const noRes = await get(`${imds1}/metadata/identity/oauth2/token?api-version=2018-02-01`);
    expect(noRes.status).toBe(400);
    expect(noRes.json.error_description).toMatch(/resource/);
    const noVer = await get(`${imds1}/metadata/identity/oauth2/token?resource=https://vault.azure.net`);
    expect(noVer.status).toBe(400);
    expect(noVer.json.error_description).toMatch(/api-version/);
  });

  it('selects a user-assigned identity by client_id, object_id and msi_res_id', async () => {
    for (const q of [`client_id=${uaiA.properties.clientId}`, `object_id=${uaiA.properties.principalId}`, `msi_res_id=${encodeURIComponent(uaiA.id)}`]) {
      const r = await get(tokenUrl(imds1, `resource=https://vault.azure.net&${q}`));
      expect(r.status, q).toBe(200);
      expect(decodeJwt(r.json.access_token).oid).toBe(uaiA.properties.principalId);
      expect(r.json.client_id).toBe(uaiA.properties.clientId);
    }
  });

  it("refuses another VM's identity: Identity not found (400)", async () => {
    const r = await get(tokenUrl(imds1, `resource=https://vault.azure.net&client_id=${uaiB.properties.clientId}`));
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: 'invalid_request', error_description: 'Identity not found' });
  });

  it('refuses two selectors at once', async () => {
    const r = await get(tokenUrl(imds1, `resource=https://vault.azure.net&client_id=${uaiA.properties.clientId}&object_id=${uaiA.properties.principalId}`));
    expect(r.status).toBe(400);
  });

  it('asks which identity when a VM has several user-assigned and no system identity', async () => {
    const r = await get(tokenUrl(imds2, 'resource=https://vault.azure.net'));
    expect(r.status).toBe(400);
    expect(r.json.error_description).toMatch(/Multiple user assigned identities exist/);
  });

  it('refuses a resource Entra does not know (AADSTS500011)', async () => {
    const r = await get(tokenUrl(imds1, 'resource=https://not-a-resource.example.com'));
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('invalid_resource');
    expect(r.json.error_description).toMatch(/^AADSTS500011/);
  });

  it('serves instance metadata for its own VM only', async () => {
    const r = await get(`${imds1}/metadata/instance?api-version=2021-02-01`);
    expect(r.status).toBe(200);
    expect(r.json.compute.name).toBe('vm1');
    expect(r.json.compute.resourceId).toBe(vm1.id);
    expect(r.json.compute.subscriptionId).toBe(k.subscriptionId);
    const leaf = await http('GET', `${imds2}/metadata/instance/compute/name?api-version=2021-02-01&format=text`, { headers: { Metadata: 'true' } });
    expect(leaf.text).toBe('vm2');
    const bad = await get(`${imds1}/metadata/instance?api-version=1999-01-01`);
    expect(bad.status).toBe(400);
    expect(bad.json['newest-versions']).toBeInstanceOf(Array);
  });

  it('disabling the system identity makes its tokens unobtainable; re-enabling gives a new principal', async () => {
    const patch = await arm(k, 'PATCH', vm1.id, { identity: { type: 'UserAssigned' } });
    expect(patch.status).toBe(200);
    expect(patch.json.identity.principalId).toBeUndefined();
    // The only identity left is the user-assigned one, so it becomes the default.
    const r = await get(tokenUrl(imds1, 'resource=https://vault.azure.net'));
    expect(decodeJwt(r.json.access_token).oid).toBe(uaiA.properties.principalId);
    const sys = await get(tokenUrl(imds1, `resource=https://vault.azure.net&object_id=${vm1.identity.principalId}`));
    expect(sys.status).toBe(400);
    const again = await arm(k, 'PATCH', vm1.id, { identity: { type: 'SystemAssigned, UserAssigned' } });
    expect(again.json.identity.principalId).toMatch(/^[0-9a-f-]{36}$/);
    expect(again.json.identity.principalId).not.toBe(vm1.identity.principalId);
    expect(Object.keys(again.json.identity.userAssignedIdentities)).toEqual([uaiA.id]);
  });

  it('deleting a user-assigned identity makes its tokens unobtainable, even from the token cache', async () => {
    const before = await get(tokenUrl(imds2, `resource=https://vault.azure.net&client_id=${uaiB.properties.clientId}`));
    expect(before.status).toBe(200);
    expect((await arm(k, 'DELETE', uaiB.id)).status).toBe(200);
    const after = await get(tokenUrl(imds2, `resource=https://vault.azure.net&client_id=${uaiB.properties.clientId}`));
    expect(after.status).toBe(400);
    expect(after.json.error_description).toBe('Identity not found');
  });

  it('deleting the VM closes its IMDS address', async () => {
    expect((await arm(k, 'DELETE', vm1.id)).status).toBe(200);
    await expect(get(tokenUrl(imds1, 'resource=https://vault.azure.net'))).rejects.toThrow(/ECONNREFUSED|socket hang up|ECONNRESET/);
    expect(k.imdsEndpoint(vm1.id)).toBeUndefined();
  });

  it('deleting the resource group closes the IMDS address of every VM in it', async () => {
    // The group's deletion publishes each contained resource by its own key: the VM's is what unbinds it.
    const vm2 = `${rg()}/providers/Microsoft.Compute/virtualMachines/vm2`;
    expect(k.imdsEndpoint(vm2)).toBe(imds2);
    expect((await arm(k, 'DELETE', rg())).status).toBeLessThan(300);
    await expect.poll(() => k.imdsEndpoint(vm2), { timeout: 5_000 }).toBeUndefined();
    await expect(get(tokenUrl(imds2, 'resource=https://vault.azure.net'))).rejects.toThrow(/ECONNREFUSED|socket hang up|ECONNRESET/);
  });
});

function rawRequest(base: string, request: string): Promise<string> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(u.port), u.hostname, () => sock.write(request));
    let data = '';
    sock.on('data', (d) => (data += d.toString()));
    sock.on('end', () => resolve(data));
    sock.on('error', reject);
  });
}
