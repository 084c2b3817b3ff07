import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { arm, startTestKeyless } from '../../support/keyless.js';
import { lastJson, runChild } from '../../support/child.js';
import type { StartedKeyless } from '../../../src/index.js';
import { createAccount, type TestAccount } from '../../integration/blob/helpers.js';

const BLOB_APP = path.join(import.meta.dirname, 'apps', 'blob-client.mjs');
const KEYS_APP = path.join(import.meta.dirname, 'apps', 'blob-keys.mjs');

/**
 * Issue 5's user stories with unmodified apps run as a VM: @azure/identity's ManagedIdentityCredential against
 * the VM's IMDS, @azure/storage-blob against the account URL the VM environment names, @azure/arm-storage on ARM.
 */
describe('user stories: Blob with managed identities (official clients)', () => {
  let k: StartedKeyless;
  let a: TestAccount;
  let vmId: string;
  let principalId: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    k = await startTestKeyless();
    a = await createAccount(k, 'storyacct', 'story-rg');
    const vm = await arm(k, 'PUT', `/subscriptions/${k.subscriptionId}/resourceGroups/story-rg/providers/Microsoft.Compute/virtualMachines/app-vm`, {
      location: 'westeurope',
      identity: { type: 'SystemAssigned' },
    });
    vmId = vm.json.id;
    principalId = vm.json.identity.principalId;
    env = (await k.vmEnvironment(vmId))!;
  });
  afterAll(async () => k?.stop());

  it('the VM environment names the account blob URL (host style)', () => {
    expect(env['KEYLESS_STORAGE_STORYACCT_BLOB_URL']).toBe(a.url);
    expect(a.url).toMatch(/^https:\/\/storyacct\.blob\.keyless\.localhost:\d+\/$/);
  });

  describe('(a) the VM reads text.txt only once its identity is a Storage Blob Data Reader', () => {
    const read = async () => lastJson((await runChild(process.execPath, [BLOB_APP, 'read', env['KEYLESS_STORAGE_STORYACCT_BLOB_URL']!, 'appdata', 'text.txt'], env)).stdout);

    it('1. the admin puts text.txt = "hello" in a container (Shared Key)', async () => {
      const svc = new BlobServiceClient(a.url, new StorageSharedKeyCredential(a.name, a.key1));
      await svc.getContainerClient('appdata').create();
      await svc.getContainerClient('appdata').getBlockBlobClient('text.txt').upload('hello', 5);
    });

    it('2. without a role, the VM gets 403 AuthorizationPermissionMismatch', async () => {
      const r = await read();
      expect(r.ok).toBe(false);
      expect(r.statusCode).toBe(403);
      expect(r.code).toBe('AuthorizationPermissionMismatch');
    });

    it('3. Owner-like control-plane rights are not enough either (no data actions)', async () => {
      await k.assignRole({ principalId, role: 'Storage Account Contributor', scope: a.id });
      const r = await read();
      expect(r.statusCode).toBe(403);
    });

    it('4. after "Storage Blob Data Reader" on the account, the VM reads "hello"', async () => {
      await k.assignRole({ principalId, role: 'Storage Blob Data Reader', scope: a.id });
      const r = await read();
      expect(r).toEqual({ ok: true, result: 'hello' });
      const listed = lastJson((await runChild(process.execPath, [BLOB_APP, 'list', a.url, 'appdata'], env)).stdout);
      expect(listed).toEqual({ ok: true, result: ['text.txt'] });
    });

    it('5. reading does not mean writing', async () => {
      const w = lastJson((await runChild(process.execPath, [BLOB_APP, 'write', a.url, 'appdata', 'x.txt', 'nope'], env)).stdout);
      expect(w.ok).toBe(false);
      expect(w.code).toBe('AuthorizationPermissionMismatch');
    });
  });

  describe('(b) a key operator lists keys on ARM, uses Shared Key and SAS, and rotates key1', () => {
    let operator: { id: string; principalId: string; env: Record<string, string> };
    beforeAll(async () => {
      const vm = await arm(k, 'PUT', `/subscriptions/${k.subscriptionId}/resourceGroups/story-rg/providers/Microsoft.Compute/virtualMachines/ops-vm`, {
        location: 'westeurope',
        identity: { type: 'SystemAssigned' },
      });
      operator = { id: vm.json.id, principalId: vm.json.identity.principalId, env: (await k.vmEnvironment(vm.json.id))! };
    });
    const run = async (mode: string) => lastJson((await runChild(process.execPath, [KEYS_APP, mode, 'story-rg', a.name, a.url], operator.env)).stdout);

    it('1. without the role, listKeys is 403 AuthorizationFailed', async () => {
      const r = await run('listkeys');
      expect(r.error).toMatchObject({ ok: false, statusCode: 403, code: 'AuthorizationFailed' });
    });

    it('2. with "Storage Account Key Operator Service Role" the whole story passes', async () => {
      await k.assignRole({ principalId: operator.principalId, role: 'Storage Account Key Operator Service Role', scope: a.id });
      const r = await run('story');
      expect(r.error).toBeUndefined();
      expect(r.listKeys).toEqual({ ok: true, names: ['key1', 'key2'] });
      expect(r.sharedKeyUpload).toEqual({ ok: true });
      expect(r.sasRead).toEqual({ ok: true, text: 'quarterly' });
      expect(r.regenerate).toEqual({ ok: true, changed: true });
      expect(r.oldKeyAfterRotation).toMatchObject({ ok: false, statusCode: 403, code: 'AuthenticationFailed' });
      expect(r.oldSasAfterRotation).toMatchObject({ ok: false, statusCode: 403, code: 'AuthenticationFailed' });
      expect(r.newKey).toEqual({ ok: true, text: 'quarterly' });
    });

    it('3. the admin\'s copy of key1 is dead too; key2 still works', async () => {
      const old = new BlobServiceClient(a.url, new StorageSharedKeyCredential(a.name, a.key1));
      await expect(old.getContainerClient('keyed').getProperties()).rejects.toMatchObject({ statusCode: 403 });
      const two = new BlobServiceClient(a.url, new StorageSharedKeyCredential(a.name, a.key2));
      expect((await two.getContainerClient('keyed').getBlobClient('report.txt').downloadToBuffer()).toString()).toBe('quarterly');
    });
  });
});
