import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import type { StartedKeyless } from '../../../src/index.js';
import type { AccessReview, IdentityReview } from '../../../src/audit/index.js';
import { http, startTestKeyless } from '../../support/keyless.js';
import { createAccount, raw, type TestAccount } from '../blob/helpers.js';
import { admin, armAs, clientToken, group, imdsToken, ops, vmBody } from './helpers.js';

const CONTAINERS = 'blobServices/default/containers';
const READ = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read';

/**
 * Issue 7 item 4: granted vs. used, with least-privilege suggestions. The acceptance case: an identity with
 * Contributor on a resource group that only ever read blobs (through the real Blob surface) is told Storage Blob
 * Data Reader at the container would do, and that Contributor granted nothing it used.
 */
describe('access review', () => {
  let k: StartedKeyless;
  let token: string;
  let a: TestAccount;
  let vm: { id: string; principalId: string };
  let blocked: { objectId: string; clientId: string; clientSecret: string };
  let twoContainers: { objectId: string; clientId: string; clientSecret: string };
  let policyApp: { objectId: string; clientId: string; clientSecret: string };
  let vaultId: string;
  const bearer = (t: string) => ({ authorization: `Bearer ${t}`, 'x-ms-version': '2026-04-06', 'x-ms-date': new Date().toUTCString() });
  const review = async (principal: string, extra = ''): Promise<IdentityReview> => {
    const r = await ops(k, token, `/keyless/v1/access/review?principal=${principal}${extra}`);
    expect(r.status, r.text).toBe(200);
    const body = r.json as AccessReview;
    expect(body.identities).toHaveLength(1);
    return body.identities[0]!;
  };

  beforeAll(async () => {
    k = await startTestKeyless();
    token = await admin(k);
    a = await createAccount(k, 'reviewacct', 'review-rg');
    const svc = new BlobServiceClient(a.pathUrl, new StorageSharedKeyCredential(a.name, a.key1));
    for (const c of ['docs', 'other']) {
      await svc.getContainerClient(c).create();
      await svc.getContainerClient(c).getBlockBlobClient('a.txt').upload('hello', 5);
    }
    const rg = group(k, 'review-rg');

    // The acceptance identity: a VM's system identity, Contributor on the group plus a broad blob data role.
    const r = await armAs(k, token, 'PUT', `${rg}/providers/Microsoft.Compute/virtualMachines/reviewvm?api-version=2024-07-01`, vmBody);
    vm = { id: r.json.id, principalId: r.json.identity.principalId };
    await k.assignRole({ principalId: vm.principalId, role: 'Contributor', scope: rg });
    await k.assignRole({ principalId: vm.principalId, role: 'Storage Blob Data Contributor', scope: rg });
    const vmStorage = (await imdsToken(k, vm.id, 'https://storage.azure.com')).json.access_token as string;
    for (let i = 0; i < 3; i++) expect((await raw('GET', `${a.pathUrl}/docs/a.txt`, { headers: bearer(vmStorage) })).status).toBe(200);

    // Contributor alone: the reads are refused.
    blocked = await k.createApplication('contributor-only');
    await k.assignRole({ principalId: blocked.objectId, role: 'Contributor', scope: rg });
    const bt = await clientToken(k, blocked.clientId, blocked.clientSecret, 'https://storage.azure.com/.default');
    expect((await raw('GET', `${a.pathUrl}/docs/a.txt`, { headers: bearer(bt) })).status).toBe(403);

    // Reads in two containers: the common scope is the account.
    twoContainers = await k.createApplication('two-containers');
    await k.assignRole({ principalId: twoContainers.objectId, role: 'Storage Blob Data Owner', scope: `/subscriptions/${k.subscriptionId}` });
    const tt = await clientToken(k, twoContainers.clientId, twoContainers.clientSecret, 'https://storage.azure.com/.default');
    for (const c of ['docs', 'other']) expect((await raw('GET', `${a.pathUrl}/${c}/a.txt`, { headers: bearer(tt) })).status).toBe(200);

    // A vault on access policies: the app may get, list, set and delete secrets, and only ever gets one.
    policyApp = await k.createApplication('policy-app');
    const vault = await armAs(k, token, 'PUT', `${rg}/providers/Microsoft.KeyVault/vaults/reviewkv?api-version=2024-11-01`, {
      location: 'westeurope',
      properties: {
        tenantId: k.tenantId,
        sku: { family: 'A', name: 'standard' },
        accessPolicies: [
          { tenantId: k.tenantId, objectId: policyApp.objectId, permissions: { secrets: ['get', 'list', 'set', 'delete'] } },
          { tenantId: k.tenantId, objectId: k.admin.objectId, permissions: { secrets: ['all'] } },
        ],
      },
    });
    expect(vault.status, vault.text).toBeLessThan(300);
    vaultId = vault.json.id;
    const port = new URL(k.endpoints.resourceManager).port;
    const kvUrl = `https://reviewkv.vault.${k.config.dnsSuffix}:${port}/secrets/s1?api-version=7.4`;
    const adminKv = await admin(k, 'https://vault.azure.net/.default');
    expect((await http('PUT', kvUrl, { headers: { authorization: `Bearer ${adminKv}`, 'content-type': 'application/json' }, body: '{"value":"v"}' })).status).toBe(200);
    const pt = await clientToken(k, policyApp.clientId, policyApp.clientSecret, 'https://vault.azure.net/.default');
    expect((await http('GET', kvUrl, { headers: { authorization: `Bearer ${pt}` } })).status).toBe(200);
  }, 90_000);
  afterAll(async () => k?.stop());

  it('acceptance: Contributor on the group granted nothing used; Storage Blob Data Reader at the container would do', async () => {
    const r = await review(vm.principalId);
    expect(r.kind).toBe('SystemAssigned');
    expect(r.used).toEqual([expect.objectContaining({ action: READ, dataAction: true, via: 'rbac', count: 3, scopes: [`${a.id}/${CONTAINERS}/docs`] })]);
    const contributor = r.grants.find((g) => g.roleName === 'Contributor')!;
    expect(contributor).toMatchObject({ used: false, usedActions: [] });
    const data = r.grants.find((g) => g.roleName === 'Storage Blob Data Contributor')!;
    expect(data).toMatchObject({ used: true, usedActions: [READ] });
    expect(r.suggestion.roles).toEqual([{ roleName: 'Storage Blob Data Reader', roleDefinitionId: expect.stringMatching(/2a2b9908-6ea1-4ae2-8e65-a410df84e7d1$/), scope: `${a.id}/${CONTAINERS}/docs`, covers: [READ], alternatives: expect.any(Array) }]);
    expect(r.suggestion.unusedGrants).toEqual([expect.stringMatching(/^Contributor at .*\/resourceGroups\/review-rg/)]);
    expect(r.findings.join('\n')).toMatch(/Contributor at \S+review-rg granted nothing this identity used.*Contributor has no data actions/);
    expect(r.findings.join('\n')).toContain(`Least privilege for what was used: Storage Blob Data Reader at ${a.id}/${CONTAINERS}/docs.`);
  });

  it('Contributor alone: the blob reads were denied, and the review lists them', async () => {
    const r = await review(blocked.clientId);
    expect(r.principalId).toBe(blocked.objectId);
    expect(r.used).toEqual([]);
    expect(r.denied).toEqual([expect.objectContaining({ action: READ, dataAction: true, count: 1 })]);
    expect(r.grants).toEqual([expect.objectContaining({ roleName: 'Contributor', used: false })]);
    expect(r.findings.join('\n')).toMatch(/Denied 1 time\(s\): Microsoft.Storage\/storageAccounts\/blobServices\/containers\/blobs\/read/);
  });

  it('reads in two containers: the suggestion sits at the storage account', async () => {
    const r = await review(twoContainers.objectId);
    expect(r.suggestion.roles).toEqual([expect.objectContaining({ roleName: 'Storage Blob Data Reader', scope: a.id })]);
    expect(r.grants[0]).toMatchObject({ roleName: 'Storage Blob Data Owner', used: true });
  });

  it('Key Vault access policies: the entry is a grant, and the smallest policy that covers the use is suggested', async () => {
    const r = await review(policyApp.objectId);
    expect(r.grants).toEqual([expect.objectContaining({ kind: 'accessPolicy', scope: vaultId, used: true, usedActions: ['secrets/get'] })]);
    expect(r.used).toEqual([expect.objectContaining({ via: 'accessPolicy', permission: 'secrets/get', action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action' })]);
    expect(r.suggestion.accessPolicies).toEqual([{ vaultId, permissions: { secrets: ['get'] } }]);
    expect(r.suggestion.roles).toEqual([]);
  });

  it('a window that ends before the activity sees nothing used', async () => {
    const r = await review(vm.principalId, `&until=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`);
    expect(r.used).toEqual([]);
    expect(r.grants.every((g) => !g.used)).toBe(true);
  });

  it('covers every identity without --principal; refuses callers without read access and unknown principals', async () => {
    const all = await ops(k, token, '/keyless/v1/access/review');
    expect(all.status).toBe(200);
    const ids = (all.json as AccessReview).identities.map((i) => i.principalId);
    for (const id of [vm.principalId, blocked.objectId, twoContainers.objectId, policyApp.objectId, k.admin.objectId]) expect(ids).toContain(id);
    const nobody = await k.createApplication('nobody');
    const nt = await clientToken(k, nobody.clientId, nobody.clientSecret, `${k.endpoints.armAudience}.default`);
    const refused = await ops(k, nt, '/keyless/v1/access/review');
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('AuthorizationFailed');
    expect((await ops(k, token, '/keyless/v1/access/review?principal=00000000-0000-0000-0000-00000000abcd')).status).toBe(404);
    expect((await ops(k, token, '/keyless/v1/access/review?since=yesterday-ish')).status).toBe(400);
  });
});
