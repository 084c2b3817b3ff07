import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientSecretCredential } from '@azure/identity';
import { StorageManagementClient } from '@azure/arm-storage';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { startTestKeyless } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';
import { ensureGroup } from '../../integration/blob/helpers.js';

/** @azure/arm-storage 19.1.0 as the admin service principal: the account lifecycle az and the portal drive. */
describe('@azure/arm-storage against Keyless', () => {
  let k: StartedKeyless;
  let client: StorageManagementClient;

  beforeAll(async () => {
    k = await startTestKeyless();
    await ensureGroup(k, 'armsdk-rg');
    const cred = new ClientSecretCredential(k.tenantId, k.admin.clientId, k.admin.clientSecret!, { authorityHost: k.endpoints.authorityHost, disableInstanceDiscovery: true });
    client = new StorageManagementClient(cred, k.subscriptionId, {
      endpoint: k.endpoints.resourceManager,
      $host: k.endpoints.resourceManager,
      credentialScopes: [`${k.endpoints.armAudience}.default`],
    });
  });
  afterAll(async () => k?.stop());

  it('creates (long-running create completes at once), gets and lists an account', async () => {
    const created = await client.storageAccounts.beginCreateAndWait('armsdk-rg', 'armsdkacct', { location: 'westeurope', kind: 'StorageV2', sku: { name: 'Standard_LRS' } });
    expect(created.provisioningState).toBe('Succeeded');
    expect(created.primaryEndpoints?.blob).toMatch(/^https:\/\/armsdkacct\.blob\.keyless\.localhost:\d+\/$/);
    expect(created.sku?.tier).toBe('Standard');
    expect(created.creationTime).toBeInstanceOf(Date);
    const got = await client.storageAccounts.getProperties('armsdk-rg', 'armsdkacct');
    expect(got.id).toBe(created.id);
    const inGroup = [];
    for await (const x of client.storageAccounts.listByResourceGroup('armsdk-rg')) inGroup.push(x.name);
    expect(inGroup).toEqual(['armsdkacct']);
    const all = [];
    for await (const x of client.storageAccounts.list()) all.push(x.name);
    expect(all).toContain('armsdkacct');
    const updated = await client.storageAccounts.update('armsdk-rg', 'armsdkacct', { tags: { stage: 'test' } });
    expect(updated.tags).toEqual({ stage: 'test' });
  });

  it('lists keys (the SDK always sends $expand=kerb), regenerates one, and the data plane follows', async () => {
    const keys = await client.storageAccounts.listKeys('armsdk-rg', 'armsdkacct');
    expect(keys.keys?.map((x) => [x.keyName, x.permissions])).toEqual([
      ['key1', 'FULL'],
      ['key2', 'FULL'],
    ]);
    const acct = await client.storageAccounts.getProperties('armsdk-rg', 'armsdkacct');
    const svc = new BlobServiceClient(acct.primaryEndpoints!.blob!, new StorageSharedKeyCredential('armsdkacct', keys.keys![1]!.value!));
    await svc.getContainerClient('fromkey').create();
    const rotated = await client.storageAccounts.regenerateKey('armsdk-rg', 'armsdkacct', { keyName: 'key2' });
    expect(rotated.keys![1]!.value).not.toBe(keys.keys![1]!.value);
    await expect(svc.getContainerClient('fromkey').getProperties()).rejects.toMatchObject({ statusCode: 403 });
  });

  it('manages blob containers as child resources', async () => {
    const c = await client.blobContainers.create('armsdk-rg', 'armsdkacct', 'armcontainer', { metadata: { a: 'b' } });
    expect(c.name).toBe('armcontainer');
    expect(c.publicAccess).toBe('None');
    const got = await client.blobContainers.get('armsdk-rg', 'armsdkacct', 'armcontainer');
    expect(got.metadata).toEqual({ a: 'b' });
    expect(got.lastModifiedTime).toBeInstanceOf(Date);
    const names = [];
    for await (const x of client.blobContainers.list('armsdk-rg', 'armsdkacct')) names.push(x.name);
    expect(names.sort()).toEqual(['armcontainer', 'fromkey']);
    await client.blobContainers.delete('armsdk-rg', 'armsdkacct', 'armcontainer');
    await expect(client.blobContainers.get('armsdk-rg', 'armsdkacct', 'armcontainer')).rejects.toMatchObject({ statusCode: 404, code: 'ContainerNotFound' });
    const service = await client.blobServices.getServiceProperties('armsdk-rg', 'armsdkacct');
    expect(service.name).toBe('default');
  });

  it('refuses a taken name and deletes the account', async () => {
    await ensureGroup(k, 'armsdk-rg2');
    await expect(client.storageAccounts.beginCreateAndWait('armsdk-rg2', 'armsdkacct', { location: 'westeurope', kind: 'StorageV2', sku: { name: 'Standard_LRS' } })).rejects.toMatchObject({
      statusCode: 409,
      code: 'StorageAccountAlreadyTaken',
    });
    await client.storageAccounts.delete('armsdk-rg', 'armsdkacct');
    await expect(client.storageAccounts.getProperties('armsdk-rg', 'armsdkacct')).rejects.toMatchObject({ statusCode: 404 });
  });
});
