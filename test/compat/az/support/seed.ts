import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { Connection } from '../../../../src/cli/connection.js';
import { http } from '../../../support/keyless.js';
import type { ServedKeyless } from '../../../support/cli.js';

/** Role definition ids used by the suites (from data/builtin-roles.json). */
export const ROLES = {
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  storageAccountContributor: '17d1049b-9a84-46fb-8f53-869881c3d3ab',
  keyVaultReader: '21090545-7ca7-4776-b22c-e363652d74d2',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
};

/**
 * Setup done as the admin straight over ARM and the data planes (no az: each az start costs seconds), so the
 * suites spend their az time on the commands under test.
 */
export class Seed {
  readonly conn: Connection;
  readonly sub: string;
  readonly port: string;
  private readonly admin: { clientId: string; clientSecret: string; objectId: string };

  constructor(readonly k: ServedKeyless) {
    this.conn = Connection.open(k.dataDir);
    this.sub = k.ready.subscriptionId;
    this.port = new URL(k.ready.endpoints.resourceManager).port;
    this.admin = JSON.parse(fs.readFileSync(k.ready.adminFile, 'utf8'));
  }

  get adminObjectId(): string {
    return this.admin.objectId;
  }

  rg(name: string): string {
    return `/subscriptions/${this.sub}/resourceGroups/${name}`;
  }

  group(name: string): Promise<any> {
    return this.conn.arm('PUT', `${this.rg(name)}?api-version=2021-04-01`, { location: 'westeurope' });
  }

  vm(group: string, name: string, identity?: { type: string; userAssignedIdentities?: Record<string, object> }): Promise<any> {
    return this.conn.arm('PUT', `${this.rg(group)}/providers/Microsoft.Compute/virtualMachines/${name}?api-version=2024-07-01`, { location: 'westeurope', ...(identity ? { identity } : {}) });
  }

  identity(group: string, name: string): Promise<any> {
    return this.conn.arm('PUT', `${this.rg(group)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}?api-version=2023-01-31`, { location: 'westeurope' });
  }

  assign(roleGuid: string, principalId: string, scope: string): Promise<any> {
    return this.conn.arm('PUT', `${scope}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`, {
      properties: { roleDefinitionId: `/subscriptions/${this.sub}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`, principalId, principalType: 'ServicePrincipal' },
    });
  }

  /** A storage account with `container/blob` = text, written with Shared Key. */
  async storageWithBlob(group: string, account: string, container: string, blob: string, text: string): Promise<{ id: string; url: string; key: string }> {
    const id = `${this.rg(group)}/providers/Microsoft.Storage/storageAccounts/${account}`;
    await this.conn.arm('PUT', `${id}?api-version=2023-01-01`, { location: 'westeurope', kind: 'StorageV2', sku: { name: 'Standard_LRS' } });
    const keys = await this.conn.arm('POST', `${id}/listKeys?api-version=2023-01-01`);
    const key = keys.keys[0].value as string;
    const url = `https://${account}.blob.keyless.localhost:${this.port}`;
    const svc = new BlobServiceClient(url, new StorageSharedKeyCredential(account, key));
    await svc.getContainerClient(container).createIfNotExists();
    await svc.getContainerClient(container).getBlockBlobClient(blob).upload(text, Buffer.byteLength(text));
    return { id, url, key };
  }

  /** An RBAC vault holding `secret` = value, written by the admin (made Key Vault Secrets Officer on it). */
  async vaultWithSecret(group: string, vault: string, secret: string, value: string, opts: { rbac?: boolean } = {}): Promise<{ id: string; url: string }> {
    const id = `${this.rg(group)}/providers/Microsoft.KeyVault/vaults/${vault}`;
    const rbac = opts.rbac ?? true;
    await this.conn.arm('PUT', `${id}?api-version=2023-07-01`, {
      location: 'westeurope',
      properties: {
        tenantId: this.k.ready.tenantId,
        sku: { family: 'A', name: 'standard' },
        enableRbacAuthorization: rbac,
        accessPolicies: rbac ? [] : [{ tenantId: this.k.ready.tenantId, objectId: this.admin.objectId, permissions: { secrets: ['all'] } }],
      },
    });
    if (rbac) await this.assign(ROLES.keyVaultSecretsOfficer, this.admin.objectId, id);
    const url = `https://${vault}.vault.keyless.localhost:${this.port}`;
    const token = await this.token('https://vault.azure.net/.default');
    const r = await http('PUT', `${url}/secrets/${secret}?api-version=7.4`, { headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ value }) });
    if (r.status !== 200) throw new Error(`secret write failed: ${r.status} ${r.text}`);
    return { id, url };
  }

  /** An admin token for any audience, through the real token endpoint. */
  async token(scope: string): Promise<string> {
    const r = await http('POST', `${this.k.ready.endpoints.authority}/oauth2/v2.0/token`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: this.admin.clientId, client_secret: this.admin.clientSecret, scope }).toString(),
    });
    if (r.status !== 200) throw new Error(`admin token failed: ${r.status}`);
    return r.json.access_token as string;
  }

  /** Audit events (another surface's API), or undefined where this build does not serve them yet. */
  async auditEvents(query: Record<string, string>): Promise<any[] | undefined> {
    const token = await this.conn.armToken();
    const r = await http('GET', `${this.k.ready.endpoints.resourceManager}/keyless/v1/audit/events?${new URLSearchParams(query)}`, { headers: { authorization: `Bearer ${token}` } });
    if (r.status === 404 && !r.json?.events) return undefined;
    if (r.status !== 200) throw new Error(`audit events: ${r.status} ${r.text}`);
    return r.json.events as any[];
  }
}

/** The claims of a JWT (never printed: tests compare fields only). */
export function claimsOf(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
}
