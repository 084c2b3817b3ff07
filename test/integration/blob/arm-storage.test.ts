import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { arm, startTestKeyless } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';
import { accountSas, createAccount, ensureGroup, port, raw, withSas, type TestAccount } from './helpers.js';

const API = 'api-version=2023-05-01';

describe('Microsoft.Storage on ARM', () => {
  let k: StartedKeyless;
  let rg: string;
  let a: TestAccount;

  beforeAll(async () => {
    k = await startTestKeyless();
    rg = await ensureGroup(k, 'storage-rg');
    a = await createAccount(k, 'armacct', 'storage-rg');
  });
  afterAll(async () => k?.stop());

  const accountPath = (name: string, group = 'storage-rg') => `/subscriptions/${k.subscriptionId}/resourceGroups/${group}/providers/Microsoft.Storage/storageAccounts/${name}`;

  describe('storage accounts', () => {
    it('PUT creates a StorageV2 account with a blob endpoint and answers like Azure', async () => {
      const r = await arm(k, 'PUT', `${accountPath('created1')}?${API}`, { location: 'westeurope', kind: 'StorageV2', sku: { name: 'Standard_LRS' }, tags: { env: 't' } });
      // 200, not 201: Azure's storage RP completes a create with 200 (or 202), and Debian's az accepts nothing else.
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({
        id: accountPath('created1'),
        name: 'created1',
        type: 'Microsoft.Storage/storageAccounts',
        location: 'westeurope',
        kind: 'StorageV2',
        sku: { name: 'Standard_LRS', tier: 'Standard' },
        tags: { env: 't' },
        properties: {
          provisioningState: 'Succeeded',
          primaryEndpoints: { blob: `https://created1.blob.keyless.localhost:${port(k)}/` },
          primaryLocation: 'westeurope',
          statusOfPrimary: 'available',
        },
      });
      expect(Date.parse(r.json.properties.creationTime)).not.toBeNaN();
      expect(JSON.stringify(r.json)).not.toMatch(/storageKeys|sealed/);
      const again = await arm(k, 'PUT', `${accountPath('created1')}?${API}`, { location: 'westeurope', kind: 'StorageV2', sku: { name: 'Standard_LRS' } });
      expect(again.status).toBe(200);
      expect(again.json.properties.creationTime).toBe(r.json.properties.creationTime);
    });

    it('defaults kind and sku; refuses bad names and names taken anywhere', async () => {
      const d = await arm(k, 'PUT', accountPath('defaults1'), { location: 'westeurope' });
      expect(d.json.kind).toBe('StorageV2');
      expect(d.json.sku).toEqual({ name: 'Standard_LRS', tier: 'Standard' });
      const bad = await arm(k, 'PUT', accountPath('Bad-Name'), { location: 'westeurope' });
      expect(bad.status).toBe(400);
      expect(bad.json.error.code).toBe('AccountNameInvalid');
      expect((await arm(k, 'PUT', accountPath('ab'), { location: 'westeurope' })).json.error.code).toBe('AccountNameInvalid');
      await ensureGroup(k, 'other-rg');
      const taken = await arm(k, 'PUT', accountPath('armacct', 'other-rg'), { location: 'westeurope' });
      expect(taken.status).toBe(409);
      expect(taken.json.error).toEqual({ code: 'StorageAccountAlreadyTaken', message: 'The storage account named armacct is already taken.' });
    });

    it('GET, list by resource group and by subscription (how az finds the group)', async () => {
      const g = await arm(k, 'GET', accountPath('armacct'));
      expect(g.status).toBe(200);
      expect(g.json.id).toBe(a.id);
      const inGroup = await arm(k, 'GET', `${rg}/providers/Microsoft.Storage/storageAccounts?${API}`);
      expect(inGroup.json.value.map((x: { name: string }) => x.name)).toContain('armacct');
      const inSub = await arm(k, 'GET', `/subscriptions/${k.subscriptionId}/providers/Microsoft.Storage/storageAccounts?api-version=2022-09-01`);
      const item = inSub.json.value.find((x: { name: string }) => x.name === 'armacct');
      expect(item.id).toContain('/resourceGroups/storage-rg/');
      expect(item.properties.primaryEndpoints.blob).toBe(a.url);
      expect((await arm(k, 'GET', accountPath('nosuchacct'))).json.error.code).toBe('ResourceNotFound');
    });

    it('PATCH merges tags and properties and keeps the endpoints', async () => {
      const p = await arm(k, 'PATCH', accountPath('armacct'), { tags: { team: 'blob' }, properties: { minimumTlsVersion: 'TLS1_2' } });
      expect(p.status).toBe(200);
      expect(p.json.tags).toEqual({ team: 'blob' });
      expect(p.json.properties.primaryEndpoints.blob).toBe(a.url);
    });

    it('listKeys ($expand=kerb tolerated): two 64-byte keys with FULL permissions, sealed at rest', async () => {
      const r = await arm(k, 'POST', `${accountPath('armacct')}/listKeys?api-version=2022-09-01&$expand=kerb`);
      expect(r.status).toBe(200);
      expect(r.json.keys.map((x: { keyName: string; permissions: string }) => [x.keyName, x.permissions])).toEqual([
        ['key1', 'FULL'],
        ['key2', 'FULL'],
      ]);
      for (const key of r.json.keys) {
        expect(Buffer.from(key.value, 'base64').length).toBe(64);
        expect(Date.parse(key.creationTime)).not.toBeNaN();
      }
      const row = await k.store.db.selectFrom('resources').select(['body', 'internal']).where('key', '=', a.id.toLowerCase()).executeTakeFirstOrThrow();
      for (const key of r.json.keys) {
        expect(row.internal).not.toContain(key.value);
        expect(row.internal).not.toContain(Buffer.from(key.value, 'base64').toString('hex'));
        expect(row.body).not.toContain(key.value);
      }
    });

    it('regenerateKey: a new key1 at once, the old one stops working on the data plane at once, key2 untouched', async () => {
      const acct = await createAccount(k, 'rotateacct', 'storage-rg');
      const before = new BlobServiceClient(acct.pathUrl, new StorageSharedKeyCredential(acct.name, acct.key1));
      await before.getContainerClient('rot').create();
      const oldSas = accountSas(acct, 'rl', 'sco', acct.key1);
      expect((await raw('GET', `${acct.pathUrl}/?comp=list&${oldSas}`)).status).toBe(200);

      const r = await arm(k, 'POST', `${accountPath('rotateacct')}/regenerateKey?${API}`, { keyName: 'key1' });
      expect(r.status).toBe(200);
      const [key1, key2] = r.json.keys;
      expect(key1.value).not.toBe(acct.key1);
      expect(key2.value).toBe(acct.key2);
      const listed = await arm(k, 'POST', `${accountPath('rotateacct')}/listKeys?${API}`);
      expect(listed.json.keys[0].value).toBe(key1.value);
      expect((await arm(k, 'GET', accountPath('rotateacct'))).json.properties.keyCreationTime.key1).toBe(key1.creationTime);

      await expect(before.getContainerClient('rot').getProperties()).rejects.toMatchObject({ statusCode: 403, code: 'AuthenticationFailed' });
      const oldSasAfter = await raw('GET', `${acct.pathUrl}/?comp=list&${oldSas}`);
      expect(oldSasAfter.status).toBe(403);
      expect(oldSasAfter.headers['x-ms-error-code']).toBe('AuthenticationFailed');
      const after = new BlobServiceClient(acct.pathUrl, new StorageSharedKeyCredential(acct.name, key1.value));
      expect((await after.getContainerClient('rot').getProperties()).etag).toBeTruthy();
      const viaKey2 = new BlobServiceClient(acct.pathUrl, new StorageSharedKeyCredential(acct.name, acct.key2));
      expect((await viaKey2.getContainerClient('rot').exists())).toBe(true);

      const bad = await arm(k, 'POST', `${accountPath('rotateacct')}/regenerateKey?${API}`, { keyName: 'kerb1' });
      expect(bad.status).toBe(400);
    });

    it('allowSharedKeyAccess: false turns off Shared Key and SAS', async () => {
      const acct = await createAccount(k, 'nokeyacct', 'storage-rg', { allowSharedKeyAccess: false });
      const sk = new BlobServiceClient(acct.pathUrl, new StorageSharedKeyCredential(acct.name, acct.key1));
      await expect(sk.getContainerClient('x12').create()).rejects.toMatchObject({ statusCode: 403, code: 'KeyBasedAuthenticationNotPermitted' });
      const viaSas = await raw('GET', `${acct.pathUrl}/?comp=list&${accountSas(acct)}`);
      expect(viaSas.headers['x-ms-error-code']).toBe('KeyBasedAuthenticationNotPermitted');
      await arm(k, 'PATCH', accountPath('nokeyacct'), { properties: { allowSharedKeyAccess: true } });
      await sk.getContainerClient('x12').create();
    });

    it('DELETE removes the account and everything in it; the name can be used again', async () => {
      const acct = await createAccount(k, 'gone1', 'storage-rg');
      const svc = new BlobServiceClient(acct.pathUrl, new StorageSharedKeyCredential(acct.name, acct.key1));
      await svc.getContainerClient('keep').create();
      await svc.getContainerClient('keep').getBlockBlobClient('a.txt').upload('a', 1);
      expect((await arm(k, 'DELETE', accountPath('gone1'))).status).toBe(200);
      expect((await arm(k, 'DELETE', accountPath('gone1'))).status).toBe(204);
      const r = await raw('GET', `${acct.pathUrl}/keep/a.txt?${accountSas(acct)}`);
      expect(r.status).toBe(404);
      expect(r.headers['x-ms-error-code']).toBe('ResourceNotFound');
      const again = await createAccount(k, 'gone1', 'other-rg');
      const fresh = new BlobServiceClient(again.pathUrl, new StorageSharedKeyCredential(again.name, again.key1));
      expect(await fresh.getContainerClient('keep').exists()).toBe(false);
      expect(again.key1).not.toBe(acct.key1);
    });

    it('deleting the resource group takes its accounts and their data', async () => {
      await ensureGroup(k, 'doomed-rg');
      const acct = await createAccount(k, 'rgdoomed', 'doomed-rg');
      await new BlobServiceClient(acct.pathUrl, new StorageSharedKeyCredential(acct.name, acct.key1)).getContainerClient('c01').create();
      expect((await arm(k, 'DELETE', `/subscriptions/${k.subscriptionId}/resourceGroups/doomed-rg`)).status).toBeLessThan(300);
      const left = await k.store.db.selectFrom('blob_containers').selectAll().where('account', '=', 'rgdoomed').execute();
      expect(left).toEqual([]);
    });
  });

  describe('blob containers as ARM child resources', () => {
    const containers = () => `${accountPath('armacct')}/blobServices/default/containers`;

    it('blobServices/default exists', async () => {
      const r = await arm(k, 'GET', `${accountPath('armacct')}/blobServices/default`);
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ name: 'default', type: 'Microsoft.Storage/storageAccounts/blobServices' });
    });

    it('PUT, GET, list, PATCH, DELETE; the data plane sees the same containers', async () => {
      const p = await arm(k, 'PUT', `${containers()}/armmade?${API}`, { properties: { publicAccess: 'None', metadata: { owner: 'arm' } } });
      expect(p.status).toBe(201);
      expect(p.json).toMatchObject({
        id: `${accountPath('armacct')}/blobServices/default/containers/armmade`,
        name: 'armmade',
        type: 'Microsoft.Storage/storageAccounts/blobServices/containers',
        properties: { publicAccess: 'None', leaseState: 'Available', metadata: { owner: 'arm' }, hasImmutabilityPolicy: false },
      });
      expect((await arm(k, 'PUT', `${containers()}/armmade`, {})).status).toBe(200);
      const sdk = new BlobServiceClient(a.pathUrl, new StorageSharedKeyCredential(a.name, a.key1));
      const props = await sdk.getContainerClient('armmade').getProperties();
      expect(props.metadata).toEqual({ owner: 'arm' });

      await sdk.getContainerClient('dataplanemade').create();
      const list = await arm(k, 'GET', containers());
      expect(list.json.value.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(['armmade', 'dataplanemade']));

      const patched = await arm(k, 'PATCH', `${containers()}/armmade`, { properties: { metadata: { owner: 'patched' } } });
      expect(patched.json.properties.metadata).toEqual({ owner: 'patched' });
      expect((await arm(k, 'PATCH', `${containers()}/nothere`, { properties: {} })).status).toBe(404);

      expect((await arm(k, 'DELETE', `${containers()}/armmade`)).status).toBe(200);
      const gone = await arm(k, 'GET', `${containers()}/armmade`);
      expect(gone.status).toBe(404);
      expect(gone.json.error.code).toBe('ContainerNotFound');
      expect(await sdk.getContainerClient('armmade').exists()).toBe(false);
    });

    it('refuses public access, bad names, and a missing account', async () => {
      const pub = await arm(k, 'PUT', `${containers()}/pub`, { properties: { publicAccess: 'Blob' } });
      expect(pub.status).toBe(409);
      expect(pub.json.error.code).toBe('PublicAccessNotPermitted');
      expect((await arm(k, 'PUT', `${containers()}/Bad_Name`, {})).status).toBe(400);
      expect((await arm(k, 'PUT', `${accountPath('nosuchacct')}/blobServices/default/containers/abc`, {})).status).toBe(404);
      expect((await arm(k, 'GET', `${accountPath('armacct')}/blobServices/other/containers/abc`)).status).toBe(404);
    });

    it('a SAS for the data plane built from listKeys works on ARM-made containers', async () => {
      await arm(k, 'PUT', `${containers()}/sasarm`, {});
      const r = await raw('PUT', withSas(a.pathUrl, 'sasarm/x.txt', accountSas(a)), { headers: { 'x-ms-blob-type': 'BlockBlob' }, body: 'x' });
      expect(r.status).toBe(201);
    });
  });
});
