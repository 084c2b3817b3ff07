import { arm, http, type HttpResult } from '../support/keyless.js';
import type { StartedKeyless } from '../../src/index.js';

export const portalUrl = (k: StartedKeyless, path = '/portal/') => `${k.endpoints.resourceManager}${path}`;
export const cookieName = (k: StartedKeyless) => `keyless_portal_${new URL(k.endpoints.resourceManager).port}`;

/** A browser-less portal user: signs in through the form and keeps the session cookie and CSRF token. */
export class PortalClient {
  cookie: string | undefined;
  csrf: string | undefined;

  constructor(readonly k: StartedKeyless) {}

  async signIn(clientId: string, clientSecret: string): Promise<HttpResult> {
    const r = await http('POST', portalUrl(this.k, '/portal/sign-in'), {
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(this.k.endpoints.resourceManager).origin },
      body: new URLSearchParams({ client_id: clientId, client_secret: clientSecret }).toString(),
    });
    const set = setCookie(r);
    if (set) this.cookie = set.split(';')[0];
    if (this.cookie) {
      const s = await this.get('/portal/api/session');
      this.csrf = s.json?.csrfToken;
    }
    return r;
  }

  get(path: string, headers: Record<string, string> = {}): Promise<HttpResult> {
    return http('GET', portalUrl(this.k, path), { headers: { ...this.auth(), ...headers } });
  }

  send(method: string, path: string, body?: unknown, opts: { csrf?: string | null; headers?: Record<string, string> } = {}): Promise<HttpResult> {
    const csrf = opts.csrf === undefined ? this.csrf : opts.csrf;
    return http(method, portalUrl(this.k, path), {
      headers: {
        ...this.auth(),
        'content-type': 'application/json',
        ...(csrf ? { 'x-csrf-token': csrf } : {}),
        ...opts.headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  private auth(): Record<string, string> {
    return this.cookie ? { cookie: this.cookie } : {};
  }
}

export function setCookie(r: HttpResult): string | undefined {
  const v = r.headers['set-cookie'];
  return Array.isArray(v) ? v[0] : v;
}

/** A resource group with a VM, a user-assigned identity, a vault (access policies) with one secret, and a storage account. */
export async function seedEnvironment(k: StartedKeyless, rgName = 'portal-rg') {
  const rg = `/subscriptions/${k.subscriptionId}/resourceGroups/${rgName}`;
  const ok = (r: HttpResult) => {
    if (r.status >= 300) throw new Error(`${r.status} ${r.text}`);
    return r;
  };
  ok(await arm(k, 'PUT', rg, { location: 'westeurope' }));
  const vm = `${rg}/providers/Microsoft.Compute/virtualMachines/web-vm`;
  ok(await arm(k, 'PUT', vm, { location: 'westeurope', properties: {} }));
  const uai = `${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app-id`;
  const uaiBody = ok(await arm(k, 'PUT', uai, { location: 'westeurope' })).json;
  const vault = `${rg}/providers/Microsoft.KeyVault/vaults/portal-kv`;
  ok(
    await arm(k, 'PUT', `${vault}?api-version=2023-07-01`, {
      location: 'westeurope',
      properties: {
        tenantId: k.tenantId,
        sku: { family: 'A', name: 'standard' },
        enableRbacAuthorization: false,
        accessPolicies: [{ tenantId: k.tenantId, objectId: k.admin.objectId, permissions: { secrets: ['get', 'list', 'set'] } }],
      },
    }),
  );
  const storage = `${rg}/providers/Microsoft.Storage/storageAccounts/portalstore`;
  ok(await arm(k, 'PUT', `${storage}?api-version=2023-05-01`, { location: 'westeurope', kind: 'StorageV2', sku: { name: 'Standard_LRS' }, properties: {} }));
  ok(await arm(k, 'PUT', `${storage}/blobServices/default/containers/reports?api-version=2023-05-01`, { properties: {} }));
  return { rg, vm, uai, uaiPrincipalId: uaiBody.properties.principalId as string, vault, storage };
}
