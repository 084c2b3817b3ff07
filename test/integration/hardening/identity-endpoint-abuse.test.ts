import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { arm, http, startTestKeyless } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';

/**
 * Abuse of the identity endpoints a workload calls without any credential of its own (IMDS, App Service), as a
 * compact table: what test/integration/msi does not already cover. The classic attacks are path normalisation
 * tricks that slip past a filter in front of the endpoint (aad-pod-identity GHSA-p82q-rxpm-hjpc), requests relayed
 * through a proxy (SSRF), and a workload asking for an identity that is not its own.
 */
describe('identity endpoint abuse', () => {
  let k: StartedKeyless;
  let imds: string;
  let own: { uai: any; vm: any };
  let other: { uai: any; vm: any; site: any };
  let siteSecret: string;
  let vmSecret: string;
  const rg = () => `/subscriptions/${k.subscriptionId}/resourceGroups/abuse-rg`;
  const RESOURCE = 'resource=https%3A%2F%2Fvault.azure.net';

  beforeAll(async () => {
    k = await startTestKeyless();
    expect((await arm(k, 'PUT', rg(), { location: 'westeurope' })).status).toBe(201);
    const uai = async (n: string) => (await arm(k, 'PUT', `${rg()}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${n}`, { location: 'westeurope' })).json;
    const ownUai = await uai('own-uai');
    const otherUai = await uai('other-uai');
    const vm = async (n: string, u: any) =>
      (await arm(k, 'PUT', `${rg()}/providers/Microsoft.Compute/virtualMachines/${n}`, { location: 'westeurope', identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [u.id]: {} } } })).json;
    own = { uai: ownUai, vm: await vm('own-vm', ownUai) };
    const otherVm = await vm('other-vm', otherUai);
    const site = await arm(k, 'PUT', `${rg()}/providers/Microsoft.Web/sites/abuse-site`, { location: 'westeurope', identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [ownUai.id]: {} } } });
    expect(site.status, site.text).toBe(201);
    other = { uai: otherUai, vm: otherVm, site: site.json };
    imds = k.imdsEndpoint(own.vm.id)!;
    siteSecret = (await k.appEnvironment(site.json.id))!['IDENTITY_HEADER']!;
    vmSecret = (await k.vmEnvironment(own.vm.id, { az: true }))!['IDENTITY_HEADER']!;
  });
  afterAll(async () => k?.stop());

  describe('IMDS', () => {
    const token = (q: string, headers: Record<string, string> = { Metadata: 'true' }) =>
      http('GET', `${imds}/metadata/identity/oauth2/token?api-version=2018-02-01&${RESOURCE}&${q}`, { headers });
    const imdsError = (r: { status: number; json: any; text: string }, status: number, description?: string | RegExp) => {
      expect(r.status, r.text).toBe(status);
      expect(Object.keys(r.json).sort()).toEqual(['error', 'error_description']);
      expect(r.text).not.toContain('access_token');
      if (description !== undefined) expect(r.json.error_description).toMatch(description);
    };

    it('control: the own VM gets its system and its user-assigned identity', async () => {
      expect(decodeJwt((await token('')).json.access_token).oid).toBe(own.vm.identity.principalId);
      expect(decodeJwt((await token(`client_id=${own.uai.properties.clientId}`)).json.access_token).oid).toBe(own.uai.properties.principalId);
    });

    it.each([
      ['Metadata: false', { Metadata: 'false' }],
      ['an empty Metadata header', { Metadata: '' }],
      ['X-Forwarded-For naming loopback', { Metadata: 'true', 'X-Forwarded-For': '127.0.0.1' }],
      ['an empty X-Forwarded-For', { Metadata: 'true', 'X-Forwarded-For': '' }],
    ])('refuses %s with 400 in IMDS JSON', async (_n, headers) => {
      imdsError(await token('', headers), 400);
    });

    it.each([
      ["another VM's user-assigned identity by object_id", () => `object_id=${other.uai.properties.principalId}`],
      ["another VM's user-assigned identity by msi_res_id", () => `msi_res_id=${encodeURIComponent(other.uai.id)}`],
      ["another VM's user-assigned identity by mi_res_id", () => `mi_res_id=${encodeURIComponent(other.uai.id)}`],
      ["another VM's system identity by object_id", () => `object_id=${other.vm.identity.principalId}`],
      ["another VM's resource id as msi_res_id", () => `msi_res_id=${encodeURIComponent(other.vm.id)}`],
      ['a resource id that walks from the own identity to another with /../', () => `msi_res_id=${encodeURIComponent(`${own.uai.id}/../other-uai`)}`],
    ])('refuses %s: 400 Identity not found', async (_n, q) => {
      imdsError(await token(q()), 400, /^Identity not found$/);
    });

    it('refuses a duplicated selector instead of picking one', async () => {
      imdsError(await token(`client_id=${own.uai.properties.clientId}&client_id=${other.uai.properties.clientId}`), 400);
    });

    it.each([
      '/metadata/identity/oauth2/%2e%2e/oauth2/token',
      '/metadata/identity/oauth2/%2E%2E/oauth2/token',
      '/metadata/identity%2foauth2/token',
      '/metadata/identity%2Foauth2%2Ftoken',
      '/metadata/identity/oauth2/token%2f',
      '/metadata/identity/oauth2/./token',
      '/metadata/identity/oauth2/token/..',
      '/metadata/identity/oauth2/token%00',
      '/metadata/identity/oauth2/token;jsessionid=x',
      '/metadata/identity/oauth2/token/extra',
      '/%6detadata/identity/oauth2/token',
      '\\metadata\\identity\\oauth2\\token',
      '/metadata/identity/oauth2\\token',
      'http://169.254.169.254/metadata/identity/oauth2/token',
    ])('never hands out a token for the path trick %s', async (path) => {
      const r = await rawRequest(imds, `GET ${path}?api-version=2018-02-01&${RESOURCE} HTTP/1.1\r\nHost: 169.254.169.254\r\nMetadata: true\r\nConnection: close\r\n\r\n`);
      expect(r).toMatch(/^HTTP\/1\.1 (400|404) /);
      expect(r).not.toContain('access_token');
    });

    it('answers an over-long query with 414 in IMDS JSON, and one past the header limit with a bare 431', async () => {
      imdsError(await token(`pad=${'a'.repeat(9000)}`), 414);
      const huge = await token(`pad=${'a'.repeat(20_000)}`);
      expect(huge.status).toBe(431);
      // Still serving afterwards.
      expect((await token('')).status).toBe(200);
    });
  });

  describe('App Service', () => {
    const endpoint = () => k.endpoints.appServiceIdentityEndpoint;
    const get = (q: string, headers: Record<string, string>, path = '') => http('GET', `${endpoint()}${path}?api-version=2019-08-01&${RESOURCE}&${q}`, { headers });
    const appError = (r: { status: number; json: any; text: string }, status: number, message?: RegExp) => {
      expect(r.status, r.text).toBe(status);
      expect(r.json.statusCode).toBe(status);
      expect(typeof r.json.message).toBe('string');
      expect(r.text).not.toContain('access_token');
      if (message) expect(r.json.message).toMatch(message);
    };

    it('control: the site secret, in any header-name case, gets the site identity', async () => {
      const r = await get('', { 'x-identity-header': siteSecret });
      expect(r.status, r.text).toBe(200);
      expect(decodeJwt(r.json.access_token).oid).toBe(other.site.identity.principalId);
    });

    it.each([
      ['the secret in another letter case', () => ({ 'X-IDENTITY-HEADER': swapCase(siteSecret) })],
      ['a truncated secret', () => ({ 'X-IDENTITY-HEADER': siteSecret.slice(0, -1) })],
      ['the secret with a suffix', () => ({ 'X-IDENTITY-HEADER': `${siteSecret}x` })],
      ['an empty secret', () => ({ 'X-IDENTITY-HEADER': '' })],
      ['the 2017 header name on the 2019 protocol', () => ({ secret: siteSecret })],
      ["a VM's secret", () => ({ 'X-IDENTITY-HEADER': vmSecret })],
    ])('refuses %s with 401 in App Service JSON', async (_n, headers) => {
      appError(await get('', headers()), 401, /X-IDENTITY-HEADER/);
    });

    it('refuses the secret passed in the query instead of the header', async () => {
      appError(await get(`X-IDENTITY-HEADER=${encodeURIComponent(siteSecret)}`, {}), 401);
    });

    it('refuses the secret sent twice (joined into one value)', async () => {
      const r = await rawRequest(endpoint(), `GET /msi/token?api-version=2019-08-01&${RESOURCE} HTTP/1.1\r\nHost: localhost\r\nX-IDENTITY-HEADER: ${siteSecret}\r\nX-IDENTITY-HEADER: ${siteSecret}\r\nConnection: close\r\n\r\n`);
      expect(r).toMatch(/^HTTP\/1\.1 401 /);
    });

    it.each([
      ["another resource's user-assigned identity by mi_res_id", () => `mi_res_id=${encodeURIComponent(other.uai.id)}`],
      ["another resource's user-assigned identity by principal_id", () => `principal_id=${other.uai.properties.principalId}`],
      ["a VM's system identity by object_id", () => `object_id=${own.vm.identity.principalId}`],
    ])('refuses %s with 400 "Unable to load the proper Managed Identity."', async (_n, q) => {
      appError(await get(q(), { 'X-IDENTITY-HEADER': siteSecret }), 400, /^Unable to load the proper Managed Identity\.$/);
    });

    it.each(['/msi/%2e%2e/msi/token', '/msi%2ftoken', '/msi/token%2f', '/msi/./token', '/msi/token/..', '/msi/token%00', '\\msi\\token'])(
      'never hands out a token for the path trick %s',
      async (path) => {
        const r = await rawRequest(endpoint(), `GET ${path}?api-version=2019-08-01&${RESOURCE} HTTP/1.1\r\nHost: localhost\r\nX-IDENTITY-HEADER: ${siteSecret}\r\nConnection: close\r\n\r\n`);
        expect(r).toMatch(/^HTTP\/1\.1 (400|404) /);
        expect(r).not.toContain('access_token');
      },
    );

    it('answers an over-long resource with 400 AADSTS500011, and a query past the header limit with a bare 431', async () => {
      const r = await http('GET', `${endpoint()}?api-version=2019-08-01&resource=https://${'a'.repeat(9000)}.example`, { headers: { 'X-IDENTITY-HEADER': siteSecret } });
      appError(r, 400, /AADSTS500011/);
      expect((await get(`pad=${'a'.repeat(20_000)}`, { 'X-IDENTITY-HEADER': siteSecret })).status).toBe(431);
    });
  });
});

const swapCase = (s: string): string => [...s].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');

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
