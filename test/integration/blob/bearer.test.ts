import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { adminToken, arm, http, startTestKeyless } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';
import { createAccount, port, raw, type TestAccount } from './helpers.js';

const BLOBS = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs';

/**
 * Entra ID on the Blob data plane: tokens for https://storage.azure.com (or the account URL), RBAC data actions,
 * ABAC conditions, and the 401/403 answers clients key their behaviour on.
 */
describe('Blob data plane with bearer tokens', () => {
  let k: StartedKeyless;
  let a: TestAccount;
  let vm: { id: string; principalId: string };
  const vmToken = async (resource = 'https://storage.azure.com') => {
    const r = await http('GET', `${k.imdsEndpoint(vm.id)}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(resource)}`, {
      headers: { Metadata: 'true' },
    });
    expect(r.status).toBe(200);
    return r.json.access_token as string;
  };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}`, 'x-ms-version': '2026-04-06', 'x-ms-date': new Date().toUTCString() });

  beforeAll(async () => {
    k = await startTestKeyless();
    a = await createAccount(k, 'bearacct', 'bear-rg');
    const svc = new BlobServiceClient(a.pathUrl, new StorageSharedKeyCredential(a.name, a.key1));
    for (const c of ['docs', 'secret']) {
      await svc.getContainerClient(c).create();
      await svc.getContainerClient(c).getBlockBlobClient('text.txt').upload('hello', 5);
      await svc.getContainerClient(c).getBlockBlobClient('public/p.txt').upload('p', 1);
    }
    const r = await arm(k, 'PUT', `/subscriptions/${k.subscriptionId}/resourceGroups/bear-rg/providers/Microsoft.Compute/virtualMachines/bearvm`, {
      location: 'westeurope',
      identity: { type: 'SystemAssigned' },
    });
    vm = { id: r.json.id, principalId: r.json.identity.principalId };
  });
  afterAll(async () => k?.stop());

  it('Owner of the subscription holds no data actions: 403 AuthorizationPermissionMismatch on a blob, but container (control) actions pass', async () => {
    const token = await adminToken(k, 'https://storage.azure.com/.default');
    const r = await raw('GET', `${a.pathUrl}/docs/text.txt`, { headers: bearer(token) });
    expect(r.status).toBe(403);
    expect(r.headers['x-ms-error-code']).toBe('AuthorizationPermissionMismatch');
    expect(r.reason).toBe('This request is not authorized to perform this operation using this permission.');
    expect(r.text).toContain('<Code>AuthorizationPermissionMismatch</Code><Message>This request is not authorized to perform this operation using this permission.\nRequestId:');
    expect((await raw('GET', `${a.pathUrl}/?comp=list`, { headers: bearer(token) })).status).toBe(200);
    expect((await raw('PUT', `${a.pathUrl}/ownermade?restype=container`, { headers: bearer(token) })).status).toBe(201);
  });

  it('a VM identity reads only after Storage Blob Data Reader, and writes only after Contributor', async () => {
    const token = await vmToken();
    expect((await raw('GET', `${a.pathUrl}/docs/text.txt`, { headers: bearer(token) })).headers['x-ms-error-code']).toBe('AuthorizationPermissionMismatch');
    await k.assignRole({ principalId: vm.principalId, role: 'Storage Blob Data Reader', scope: `${a.id}/blobServices/default/containers/docs` });
    const ok = await raw('GET', `${a.pathUrl}/docs/text.txt`, { headers: bearer(token) });
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('hello');
    // Container scope: the other container stays closed.
    expect((await raw('GET', `${a.pathUrl}/secret/text.txt`, { headers: bearer(token) })).status).toBe(403);
    const write = await raw('PUT', `${a.pathUrl}/docs/new.txt`, { headers: { ...bearer(token), 'x-ms-blob-type': 'BlockBlob' }, body: 'n' });
    expect(write.headers['x-ms-error-code']).toBe('AuthorizationPermissionMismatch');
    await k.assignRole({ principalId: vm.principalId, role: 'Storage Blob Data Contributor', scope: `${a.id}/blobServices/default/containers/docs` });
    expect((await raw('PUT', `${a.pathUrl}/docs/new.txt`, { headers: { ...bearer(token), 'x-ms-blob-type': 'BlockBlob' }, body: 'n' })).status).toBe(201);
    expect((await raw('DELETE', `${a.pathUrl}/docs/new.txt`, { headers: bearer(token) })).status).toBe(202);
  });

  it('accepts a token for the account URL as audience, host style', async () => {
    const hostUrl = a.url.replace(/\/$/, '');
    const token = await vmToken(hostUrl);
    const r = await raw('GET', `${hostUrl}/docs/text.txt`, { headers: bearer(token) });
    expect(r.status).toBe(200);
    expect(r.text).toBe('hello');
  });

  it('a token for another audience is 401 InvalidAuthenticationInfo with the challenge and a detail', async () => {
    const token = await vmToken(k.endpoints.armAudience);
    const r = await raw('GET', `${a.pathUrl}/docs/text.txt`, { headers: bearer(token) });
    expect(r.status).toBe(401);
    expect(r.headers['x-ms-error-code']).toBe('InvalidAuthenticationInfo');
    expect(r.headers['www-authenticate']).toBe(`Bearer authorization_uri=${k.endpoints.authorityHost}/${k.tenantId}/oauth2/authorize resource_id=https://storage.azure.com`);
    expect(r.text).toContain('<AuthenticationErrorDetail>Audience validation failed. Audience did not match.</AuthenticationErrorDetail>');
    const junk = await raw('GET', `${a.pathUrl}/docs/text.txt`, { headers: bearer('not.a.token') });
    expect(junk.status).toBe(401);
    expect(junk.headers['x-ms-error-code']).toBe('InvalidAuthenticationInfo');
  });

  it('an expired token is 401 with "Lifetime validation failed"', async () => {
    const token = await vmToken();
    k.clock.shift(3 * 24 * 3600_000);
    try {
      const r = await raw('GET', `${a.pathUrl}/docs/text.txt`, { headers: bearer(token) });
      expect(r.status).toBe(401);
      expect(r.text).toContain('<AuthenticationErrorDetail>Lifetime validation failed. The token is expired.</AuthenticationErrorDetail>');
    } finally {
      k.clock.shift(0);
    }
  });

  describe('ABAC conditions see the Storage attributes', () => {
    let principal: string;
    let token: string;
    beforeAll(async () => {
      const r = await arm(k, 'PUT', `/subscriptions/${k.subscriptionId}/resourceGroups/bear-rg/providers/Microsoft.Compute/virtualMachines/abacvm`, {
        location: 'westeurope',
        identity: { type: 'SystemAssigned' },
      });
      principal = r.json.identity.principalId;
      const got = await http('GET', `${k.imdsEndpoint(r.json.id)}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://storage.azure.com`, { headers: { Metadata: 'true' } });
      token = got.json.access_token;
    });

    it('container name: reads only in the named container (Microsoft\'s example condition)', async () => {
      await k.assignRole({
        principalId: principal,
        role: 'Storage Blob Data Reader',
        scope: a.id,
        condition: `((!(ActionMatches{'${BLOBS}/read'})) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'docs'))`,
      });
      expect((await raw('GET', `${a.pathUrl}/docs/text.txt`, { headers: bearer(token) })).status).toBe(200);
      expect((await raw('GET', `${a.pathUrl}/secret/text.txt`, { headers: bearer(token) })).headers['x-ms-error-code']).toBe('AuthorizationPermissionMismatch');
    });

    it('blob path and list prefix: Blob.List needs the prefix, reads need the path', async () => {
      const r = await arm(k, 'PUT', `/subscriptions/${k.subscriptionId}/resourceGroups/bear-rg/providers/Microsoft.Compute/virtualMachines/pathvm`, {
        location: 'westeurope',
        identity: { type: 'SystemAssigned' },
      });
      const got = await http('GET', `${k.imdsEndpoint(r.json.id)}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://storage.azure.com`, { headers: { Metadata: 'true' } });
      const t = got.json.access_token as string;
      await k.assignRole({
        principalId: r.json.identity.principalId,
        role: 'Storage Blob Data Reader',
        scope: a.id,
        condition:
          `((!(ActionMatches{'${BLOBS}/read'} AND NOT SubOperationMatches{'Blob.List'})) OR (@Resource[${BLOBS}:path] StringStartsWith 'public/'))` +
          ` AND ((!(ActionMatches{'${BLOBS}/read'} AND SubOperationMatches{'Blob.List'})) OR (@Request[${BLOBS}:prefix] StringStartsWith 'public/'))`,
      });
      expect((await raw('GET', `${a.pathUrl}/secret/public/p.txt`, { headers: bearer(t) })).status).toBe(200);
      expect((await raw('GET', `${a.pathUrl}/secret/text.txt`, { headers: bearer(t) })).status).toBe(403);
      const listed = await raw('GET', `${a.pathUrl}/secret?restype=container&comp=list&prefix=public/`, { headers: bearer(t) });
      expect(listed.status).toBe(200);
      expect(listed.text).toContain('<Name>public/p.txt</Name>');
      expect((await raw('GET', `${a.pathUrl}/secret?restype=container&comp=list`, { headers: bearer(t) })).status).toBe(403);
    });
  });

  it('the official client with a token credential and the account URL', async () => {
    const token = await vmToken();
    const svc = new BlobServiceClient(`https://127.0.0.1:${port(k)}/${a.name}`, { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600_000 }) });
    expect((await svc.getContainerClient('docs').getBlobClient('text.txt').downloadToBuffer()).toString()).toBe('hello');
  });
});
