import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { arm, startTestKeyless } from '../../support/keyless.js';
import { runChild, lastJson } from '../../support/child.js';
import type { StartedKeyless } from '../../../src/index.js';

const APP = path.join(import.meta.dirname, 'apps', 'get-token.mjs');
const SCOPE = 'https://vault.azure.net/.default';

/**
 * @azure/identity (ManagedIdentityCredential and DefaultAzureCredential, unmodified) through every identity
 * source Keyless serves, each selected only by environment variables as on Azure: IMDS, App Service 2019
 * (a web app, and a VM with `--az`), Cloud Shell (MSI_ENDPOINT) and "Azure ML" (MSI_ENDPOINT + MSI_SECRET).
 * Each selector the client allows on that source is exercised; the ones it refuses are refused client-side.
 */
describe('official clients: @azure/identity through each identity source', () => {
  let k: StartedKeyless;
  let uai: { id: string; clientId: string; principalId: string };
  let other: { id: string; clientId: string; principalId: string };
  let vm: { id: string; principalId: string };
  let site: { id: string; principalId: string };
  const rg = () => `/subscriptions/${k.subscriptionId}/resourceGroups/sources-rg`;

  beforeAll(async () => {
    k = await startTestKeyless();
    await arm(k, 'PUT', rg(), { location: 'westeurope' });
    const mk = async (n: string) => {
      const r = (await arm(k, 'PUT', `${rg()}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${n}`, { location: 'westeurope' })).json;
      return { id: r.id, clientId: r.properties.clientId, principalId: r.properties.principalId };
    };
    uai = await mk('sources-uai');
    other = await mk('sources-other');
    const identity = { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [uai.id]: {} } };
    const v = (await arm(k, 'PUT', `${rg()}/providers/Microsoft.Compute/virtualMachines/sources-vm`, { location: 'westeurope', identity })).json;
    vm = { id: v.id, principalId: v.identity.principalId };
    const s = (await arm(k, 'PUT', `${rg()}/providers/Microsoft.Web/sites/sources-site`, { location: 'westeurope', identity })).json;
    site = { id: s.id, principalId: s.identity.principalId };
    // A second site holds the "other" identity: reaching it from the first one must fail.
    await arm(k, 'PUT', `${rg()}/providers/Microsoft.Web/sites/sources-other-site`, { location: 'westeurope', identity: { type: 'UserAssigned', userAssignedIdentities: { [other.id]: {} } } });
  });
  afterAll(async () => k?.stop());

  async function token(env: Record<string, string>, mode: 'mi' | 'dac', selector?: string) {
    const r = await runChild(process.execPath, [APP, mode, SCOPE, ...(selector ? [selector] : [])], env);
    return lastJson(r.stdout) as { ok: boolean; token: string; expiresOnTimestamp: number; name?: string; message?: string };
  }
  const oid = (t: string) => decodeJwt(t)['oid'];
  const sel = {
    clientId: () => `clientId=${uai.clientId}`,
    objectId: () => `objectId=${uai.principalId}`,
    resourceId: () => `resourceId=${uai.id}`,
  };

  type Source = { name: string; env: () => Promise<Record<string, string>>; host: () => string; selectors: (keyof typeof sel)[]; refused: (keyof typeof sel)[] };
  const sources: Source[] = [
    { name: 'IMDS (AZURE_POD_IDENTITY_AUTHORITY_HOST)', env: async () => (await k.vmEnvironment(vm.id))!, host: () => vm.principalId, selectors: ['clientId', 'objectId', 'resourceId'], refused: [] },
    { name: 'App Service 2019 (a web app)', env: async () => (await k.appEnvironment(site.id))!, host: () => site.principalId, selectors: ['clientId', 'objectId', 'resourceId'], refused: [] },
    { name: 'App Service 2019 (a VM run with --az)', env: async () => (await k.vmEnvironment(vm.id, { az: true }))!, host: () => vm.principalId, selectors: ['clientId', 'objectId', 'resourceId'], refused: [] },
    { name: 'Cloud Shell (MSI_ENDPOINT)', env: async () => (await k.vmEnvironment(vm.id, { source: 'cloud-shell' }))!, host: () => vm.principalId, selectors: [], refused: ['clientId', 'objectId', 'resourceId'] },
    { name: 'Azure ML (MSI_ENDPOINT + MSI_SECRET)', env: async () => (await k.vmEnvironment(vm.id, { source: 'azure-ml' }))!, host: () => vm.principalId, selectors: ['clientId'], refused: ['objectId', 'resourceId'] },
  ];

  describe.each(sources)('$name', (source) => {
    it('ManagedIdentityCredential gets the system-assigned identity with a usable expiry', async () => {
      const r = await token(await source.env(), 'mi');
      expect(r.ok, r.message).toBe(true);
      expect(oid(r.token)).toBe(source.host());
      // msal reads expires_on only: a date (or nothing) would make the token expire at once.
      expect(r.expiresOnTimestamp - Date.now()).toBeGreaterThan(23 * 3600 * 1000);
    });

    it('DefaultAzureCredential gets the system-assigned identity', async () => {
      const r = await token(await source.env(), 'dac');
      expect(r.ok, r.message).toBe(true);
      expect(oid(r.token)).toBe(source.host());
    });

    for (const s of ['clientId', 'objectId', 'resourceId'] as const) {
      const allowed = source.selectors.includes(s);
      it(`ManagedIdentityCredential by ${s}: ${allowed ? 'the user-assigned identity' : 'refused by the client on this source'}`, async () => {
        const r = await token(await source.env(), 'mi', sel[s]());
        if (allowed) {
          expect(r.ok, r.message).toBe(true);
          expect(oid(r.token)).toBe(uai.principalId);
        } else {
          expect(r.ok).toBe(false);
          expect(r.message).toMatch(/not supported|Only client id is supported/i);
        }
      });
    }

    if (source.selectors.includes('clientId')) {
      it('DefaultAzureCredential with managedIdentityClientId gets the user-assigned identity', async () => {
        const r = await token(await source.env(), 'dac', sel.clientId());
        expect(r.ok, r.message).toBe(true);
        expect(oid(r.token)).toBe(uai.principalId);
      });

      it("refuses the identity of another resource (a client id attached elsewhere)", async () => {
        const r = await token(await source.env(), 'mi', `clientId=${other.clientId}`);
        expect(r.ok).toBe(false);
        expect(r.name).toBe('CredentialUnavailableError');
      });
    }
  });

  describe('negative: App Service secrets', () => {
    it('a wrong X-IDENTITY-HEADER gets no token', async () => {
      // prod: DefaultAzureCredential must not fall through to a developer login (az, VS Code) of this machine.
      const env = { ...(await k.appEnvironment(site.id))!, IDENTITY_HEADER: 'D0E5F00D0E5F00D0E5F00D0E5F00D00D', AZURE_TOKEN_CREDENTIALS: 'prod' };
      for (const mode of ['mi', 'dac'] as const) {
        const r = await token(env, mode);
        expect(r.ok).toBe(false);
        expect(r.message).toMatch(/X-IDENTITY-HEADER/);
      }
    });

    it("another site's secret gets that site's identities only, never this one's", async () => {
      const otherSite = (await k.appEnvironment(`${rg()}/providers/Microsoft.Web/sites/sources-other-site`))!;
      const r = await token(otherSite, 'mi', `clientId=${uai.clientId}`);
      expect(r.ok).toBe(false);
      expect(r.message).toMatch(/Unable to load the proper Managed Identity/);
      const own = await token(otherSite, 'mi', `clientId=${other.clientId}`);
      expect(own.ok, own.message).toBe(true);
      expect(oid(own.token)).toBe(other.principalId);
    });

    it("a VM's IDENTITY_HEADER is bound to that VM's listener: it does not open the web app endpoint", async () => {
      const vmEnv = (await k.vmEnvironment(vm.id, { az: true }))!;
      const env = { ...(await k.appEnvironment(site.id))!, IDENTITY_HEADER: vmEnv['IDENTITY_HEADER']! };
      const r = await token(env, 'mi');
      expect(r.ok).toBe(false);
    });
  });
});
