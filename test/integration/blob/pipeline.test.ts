import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { AccountSASPermissions, StorageSharedKeyCredential, generateAccountSASQueryParameters } from '@azure/storage-blob';
import { Store, repos } from '../../../src/store/index.js';
import { ShiftableClock } from '../../../src/core/clock.js';
import type { AccessCheck, AccessControl } from '../../../src/core/access.js';
import { KeylessError } from '../../../src/core/errors.js';
import { AccountRegistry } from '../../../src/blob/domain/accounts.js';
import { createAccountKeys, openAccountKeys } from '../../../src/blob/domain/account-keys.js';
import { BlobService } from '../../../src/blob/domain/service.js';
import { createBlobHandler, type DataAccessRecord } from '../../../src/blob/http/pipeline.js';
import { raw } from './helpers.js';

/**
 * The Blob pipeline on its own (real store, fake RBAC engine and token verifier): what each request asks the
 * engine, what it records for the audit trail, and what it never writes to the log.
 */
describe('Blob pipeline: authorization questions, audit records, logs', () => {
  const ACCOUNT_ID = '/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/pipeacct';
  const sealer = { seal: (p: Buffer | string, aad: string) => `${aad}|${Buffer.from(p).toString('base64')}`, open: (s: string) => Buffer.from(s.split('|').pop()!, 'base64') };
  let store: Store;
  let server: https.Server;
  let base: string;
  let key1: string;
  const records: DataAccessRecord[] = [];
  const checks: AccessCheck[] = [];
  const granted = new Set<string>();
  const logLines: string[] = [];
  const access: AccessControl = {
    mode: 'enforce',
    check(req) {
      checks.push(req);
      const ok = granted.has(req.action);
      return { granted: ok, allowed: ok, mode: 'enforce', conditionInvolved: false, summary: ok ? 'granted' : 'no role', explanation: { fake: true } };
    },
    visibleSubscriptions: () => 'all',
  };

  beforeAll(async () => {
    store = await Store.open({ memory: true });
    const clock = new ShiftableClock();
    const keys = createAccountKeys(sealer, ACCOUNT_ID, new Date().toISOString());
    key1 = openAccountKeys(sealer, ACCOUNT_ID, keys)[0]!.value.toString('base64');
    await repos.resources.put(store.db, {
      key: ACCOUNT_ID.toLowerCase(),
      id: ACCOUNT_ID,
      type_key: 'microsoft.storage/storageaccounts',
      subscription_id: '00000000-0000-0000-0000-0000000000aa',
      group_key: 'rg',
      parent_key: null,
      name: 'pipeacct',
      body: JSON.stringify({ id: ACCOUNT_ID, name: 'pipeacct', type: 'Microsoft.Storage/storageAccounts', kind: 'StorageV2', sku: { name: 'Standard_LRS' }, properties: {} }),
      internal: JSON.stringify({ storageKeys: keys }),
      etag: '"1"',
      created_at: 0,
      updated_at: 0,
    });
    const blobs = new BlobService(store, clock);
    await blobs.createContainer('pipeacct', 'box', {});
    await blobs.putBlob({ account: 'pipeacct', container: 'box', name: 'a.txt' }, Buffer.from('a'), { contentType: null, contentEncoding: null, contentLanguage: null, contentMd5: null, cacheControl: null, contentDisposition: null }, {});
    const log = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          logLines.push(chunk.toString());
          cb();
        },
      }),
    );
    const handler = createBlobHandler({
      dnsSuffix: 'keyless.localhost',
      clock,
      log,
      accounts: new AccountRegistry(store, sealer, clock),
      blobs,
      access,
      auth: {
        verifyBearer: async (token) => {
          if (token !== 'good-token') throw new KeylessError(401, 'InvalidAuthenticationToken', 'bad', { extra: { reason: 'sig' } });
          return { objectId: '11111111-1111-1111-1111-111111111111', appId: 'app-1', tenantId: 't', via: 'bearer', clientName: 'app-1', claims: {} };
        },
        challenge: 'Bearer authorization_uri=https://login/t/oauth2/authorize resource_id=https://storage.azure.com',
        dnsSuffix: 'keyless.localhost',
        port: 0,
        now: () => clock.now(),
      },
      limits: { maxBlobBody: 1024, maxBlockBody: 1024, maxBlockListBody: 1024 },
      record: (e) => records.push(e),
    });
    const tls = process.env['KEYLESS_TEST_TLS_DIR']!;
    server = https.createServer({ cert: fs.readFileSync(path.join(tls, 'server.crt')), key: fs.readFileSync(path.join(tls, 'server.key')) }, handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}/pipeacct`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((r) => server?.close(() => r()));
    await store?.close();
  });
  beforeEach(() => {
    records.length = 0;
    checks.length = 0;
    granted.clear();
  });
  const bearer = { authorization: 'Bearer good-token', 'x-ms-version': '2026-04-06' };
  const settle = () => new Promise((r) => setTimeout(r, 20));

  it('a denied bearer read: AuthorizationPermissionMismatch, one check with the Storage attributes, one audit record', async () => {
    const r = await raw('GET', `${base}/box/dir/a.txt`, { headers: bearer });
    expect(r.status).toBe(403);
    expect(checks).toEqual([
      {
        principalId: '11111111-1111-1111-1111-111111111111',
        action: 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read',
        isDataAction: true,
        scope: `${ACCOUNT_ID}/blobServices/default/containers/box`,
        attributes: {
          resource: {
            'Microsoft.Storage/storageAccounts:name': 'pipeacct',
            'Microsoft.Storage/storageAccounts:isHnsEnabled': false,
            'Microsoft.Storage/storageAccounts/blobServices/containers:name': 'box',
            'Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path': 'dir/a.txt',
          },
          request: {},
        },
      },
    ]);
    await settle();
    expect(records).toEqual([
      {
        principalId: '11111111-1111-1111-1111-111111111111',
        appId: 'app-1',
        via: 'bearer',
        action: 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read',
        scope: `${ACCOUNT_ID}/blobServices/default/containers/box`,
        allowed: false,
        status: 403,
        summary: 'no role',
        explanation: { fake: true },
      },
    ]);
  });

  it('List Blobs asks with subOperation Blob.List and the prefix as a request attribute', async () => {
    granted.add('Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read');
    const r = await raw('GET', `${base}/box?restype=container&comp=list&prefix=a`, { headers: bearer });
    expect(r.status).toBe(200);
    expect(checks[0]!.attributes).toMatchObject({
      subOperation: 'Blob.List',
      request: { 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs:prefix': 'a' },
      resource: { 'Microsoft.Storage/storageAccounts/blobServices/containers:name': 'box' },
    });
    expect(checks[0]!.attributes!.resource!['Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path']).toBeUndefined();
    await settle();
    expect(records[0]).toMatchObject({ allowed: true, status: 200 });
  });

  it('creating a new blob is allowed by add/action alone; overwriting needs write', async () => {
    granted.add('Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action');
    const put = (name: string) => raw('PUT', `${base}/box/${name}`, { headers: { ...bearer, 'x-ms-blob-type': 'BlockBlob' }, body: 'x' });
    expect((await put('fresh.txt')).status).toBe(201);
    await settle();
    expect(records[0]).toMatchObject({ action: 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action', allowed: true, status: 201 });
    expect((await put('a.txt')).status).toBe(403);
    await settle();
    expect(records[1]).toMatchObject({ action: 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write', allowed: false, status: 403 });
  });

  it('a granted overwrite asks one question, looks nothing up, and records no trace; the create-only fallback looks once', async () => {
    const exists = vi.spyOn(BlobService.prototype, 'blobExists');
    try {
      granted.add('Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write');
      const put = (name: string) => raw('PUT', `${base}/box/${name}`, { headers: { ...bearer, 'x-ms-blob-type': 'BlockBlob' }, body: 'x' });
      expect((await put('a.txt')).status).toBe(201);
      expect(checks.map((c) => c.action)).toEqual(['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write']);
      expect(exists).not.toHaveBeenCalled();
      await settle();
      expect(records[0]).toMatchObject({ action: 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write', allowed: true, status: 201 });
      expect(records[0]!.summary).toBe('granted');
      expect(records[0]!.explanation).toBeUndefined();

      granted.clear();
      granted.add('Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action');
      expect((await put('another-fresh.txt')).status).toBe(201);
      expect(exists).toHaveBeenCalledTimes(1);
    } finally {
      exists.mockRestore();
    }
  });

  it('container operations ask for control-plane actions at the container', async () => {
    granted.add('Microsoft.Storage/storageAccounts/blobServices/containers/write');
    expect((await raw('PUT', `${base}/newbox?restype=container`, { headers: bearer })).status).toBe(201);
    expect(checks[0]).toMatchObject({ action: 'Microsoft.Storage/storageAccounts/blobServices/containers/write', isDataAction: false, scope: `${ACCOUNT_ID}/blobServices/default/containers/newbox` });
    granted.add('Microsoft.Storage/storageAccounts/blobServices/containers/read');
    expect((await raw('GET', `${base}/?comp=list`, { headers: bearer })).status).toBe(200);
    expect(checks[1]).toMatchObject({ action: 'Microsoft.Storage/storageAccounts/blobServices/containers/read', isDataAction: false, scope: `${ACCOUNT_ID}/blobServices/default` });
  });

  it('SAS decisions are recorded with the key that signed them; no RBAC question is asked', async () => {
    const sas = generateAccountSASQueryParameters(
      { permissions: AccountSASPermissions.parse('r'), services: 'b', resourceTypes: 'o', expiresOn: new Date(Date.now() + 3600_000) },
      new StorageSharedKeyCredential('pipeacct', key1),
    ).toString();
    expect((await raw('GET', `${base}/box/a.txt?${sas}`)).status).toBe(200);
    expect((await raw('DELETE', `${base}/box/a.txt?${sas}`)).status).toBe(403);
    await settle();
    expect(checks).toEqual([]);
    expect(records.map((r) => [r.via, r.allowed, r.status])).toEqual([
      ['accountSas:key1', true, 200],
      ['accountSas:key1', false, 403],
    ]);
    expect(records.every((r) => r.principalId === undefined)).toBe(true);
  });

  it('never logs signatures, SAS tokens or bearer tokens', async () => {
    const sas = generateAccountSASQueryParameters(
      { permissions: AccountSASPermissions.parse('r'), services: 'b', resourceTypes: 'o', expiresOn: new Date(Date.now() + 3600_000) },
      new StorageSharedKeyCredential('pipeacct', Buffer.alloc(64, 9).toString('base64')),
    ).toString();
    const sig = new URLSearchParams(sas).get('sig')!;
    logLines.length = 0;
    expect((await raw('GET', `${base}/box/a.txt?${sas}`)).status).toBe(403);
    expect((await raw('GET', `${base}/box/a.txt`, { headers: { authorization: 'Bearer secret-looking-token' } })).status).toBe(401);
    expect((await raw('GET', `${base}/box/a.txt`, { headers: { authorization: `SharedKey pipeacct:${sig}`, 'x-ms-date': new Date().toUTCString() } })).status).toBe(403);
    await settle();
    expect(logLines.length).toBeGreaterThan(0);
    const all = logLines.join('\n');
    expect(all).not.toContain(sig);
    expect(all).not.toContain(encodeURIComponent(sig));
    expect(all).not.toContain('secret-looking-token');
    expect(all).not.toContain(key1);
  });

  it('a body over the limit is 413 RequestBodyTooLarge', async () => {
    granted.add('Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write');
    const r = await raw('PUT', `${base}/box/big.bin`, { headers: { ...bearer, 'x-ms-blob-type': 'BlockBlob' }, body: Buffer.alloc(2048) });
    expect(r.status).toBe(413);
    expect(r.headers['x-ms-error-code']).toBe('RequestBodyTooLarge');
  });
});
