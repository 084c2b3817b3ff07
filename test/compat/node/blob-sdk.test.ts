import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccountSASPermissions,
  AnonymousCredential,
  BlobSASPermissions,
  BlobServiceClient,
  ContainerClient,
  ContainerSASPermissions,
  StorageSharedKeyCredential,
  generateAccountSASQueryParameters,
  generateBlobSASQueryParameters,
} from '@azure/storage-blob';
import { startTestKeyless } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';
import { createAccount, type TestAccount } from '../../integration/blob/helpers.js';

/**
 * @azure/storage-blob 12.32.0 against Keyless with every way of authenticating it offers for keys: Shared Key on
 * the host-style and the path-style URL, a connection string, and SAS URLs (account, container, blob).
 */
describe('@azure/storage-blob against Keyless', () => {
  let k: StartedKeyless;
  let a: TestAccount;

  beforeAll(async () => {
    k = await startTestKeyless();
    a = await createAccount(k, 'sdkacct', 'sdk-rg');
  });
  afterAll(async () => k?.stop());

  const clients: [string, () => BlobServiceClient][] = [
    ['Shared Key, host style', () => new BlobServiceClient(a.url, new StorageSharedKeyCredential(a.name, a.key1))],
    ['Shared Key, path style', () => new BlobServiceClient(a.pathUrl, new StorageSharedKeyCredential(a.name, a.key2))],
    ['connection string', () => BlobServiceClient.fromConnectionString(`DefaultEndpointsProtocol=https;AccountName=${a.name};AccountKey=${a.key1};BlobEndpoint=${a.pathUrl};`)],
    [
      'account SAS URL',
      () =>
        new BlobServiceClient(
          `${a.pathUrl}?${generateAccountSASQueryParameters(
            { permissions: AccountSASPermissions.parse('rwdlac'), services: 'b', resourceTypes: 'sco', expiresOn: new Date(Date.now() + 3600_000) },
            new StorageSharedKeyCredential(a.name, a.key1),
          ).toString()}`,
          new AnonymousCredential(),
        ),
    ],
  ];

  describe.each(clients)('%s', (label, make) => {
    const container = `c-${label.replace(/[^a-z]/gi, '').toLowerCase()}`.slice(0, 30);

    it('creates a container and sees it listed', async () => {
      const svc = make();
      const c = svc.getContainerClient(container);
      expect((await c.createIfNotExists({ metadata: { Label: 'x' } })).succeeded).toBe(true);
      expect((await c.createIfNotExists()).succeeded).toBe(false);
      expect(await c.exists()).toBe(true);
      const names: string[] = [];
      for await (const x of svc.listContainers({ prefix: container, includeMetadata: true })) {
        names.push(x.name);
        expect(x.metadata).toEqual({ Label: 'x' });
      }
      expect(names).toEqual([container]);
    });

    it('uploads, downloads (whole and by range) and deletes a blob', async () => {
      const b = make().getContainerClient(container).getBlockBlobClient('dir/hello.txt');
      const up = await b.upload('hello world', 11, { blobHTTPHeaders: { blobContentType: 'text/plain' }, metadata: { Who: 'sdk' } });
      expect(up.etag).toMatch(/^"0x/);
      expect(up.contentMD5).toBeDefined();
      expect((await b.downloadToBuffer()).toString()).toBe('hello world');
      const part = await b.download(6, 5);
      expect(part.contentRange).toBe('bytes 6-10/11');
      const chunks: Buffer[] = [];
      for await (const c of part.readableStreamBody!) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe('world');
      const props = await b.getProperties();
      expect(props.contentType).toBe('text/plain');
      expect(props.contentLength).toBe(11);
      // Node's HTTP client lower-cases response header names, so metadata read from headers comes back lower-case.
      expect(props.metadata).toEqual({ who: 'sdk' });
      expect(props.blobType).toBe('BlockBlob');
      expect((await b.deleteIfExists({ deleteSnapshots: 'include' })).succeeded).toBe(true);
      expect((await b.deleteIfExists()).succeeded).toBe(false);
    });
  });

  describe('blob operations (Shared Key, host style)', () => {
    let c: ContainerClient;
    beforeAll(async () => {
      c = new BlobServiceClient(a.url, new StorageSharedKeyCredential(a.name, a.key1)).getContainerClient('ops');
      await c.create();
    });

    it('uploadData in blocks (Put Block + Put Block List) and a parallel ranged downloadToBuffer', async () => {
      const data = randomBytes(9 * 1024 * 1024 + 3);
      const b = c.getBlockBlobClient('big.bin');
      await b.uploadData(data, { blockSize: 2 * 1024 * 1024, maxSingleShotSize: 1024 * 1024, concurrency: 3 });
      const list = await b.getBlockList('committed');
      expect(list.committedBlocks?.length).toBe(5);
      const back = await b.downloadToBuffer(0, undefined, { blockSize: 3 * 1024 * 1024, concurrency: 3 });
      expect(back.equals(data)).toBe(true);
    });

    it('an empty blob uploads, downloads and reports size 0', async () => {
      const b = c.getBlockBlobClient('empty.txt');
      await b.upload('', 0);
      expect((await b.downloadToBuffer()).length).toBe(0);
      expect((await b.getProperties()).contentLength).toBe(0);
      const d = await b.download();
      expect(d.contentLength).toBe(0);
    });

    it('uploadStream', async () => {
      const b = c.getBlockBlobClient('streamed.txt');
      await b.uploadStream(Readable.from([Buffer.from('a'.repeat(1000)), Buffer.from('b'.repeat(1000))]), 512, 2);
      expect((await b.downloadToBuffer()).toString()).toBe('a'.repeat(1000) + 'b'.repeat(1000));
    });

    it('stageBlock, getBlockList (uncommitted), commitBlockList', async () => {
      const b = c.getBlockBlobClient('staged.txt');
      const id = (n: number) => Buffer.from(`id-${n}`).toString('base64');
      await b.stageBlock(id(1), 'one-', 4);
      await b.stageBlock(id(2), 'two', 3);
      const staged = await b.getBlockList('all');
      expect(staged.uncommittedBlocks?.map((x) => x.name)).toEqual([id(1), id(2)]);
      await b.commitBlockList([id(2), id(1)], { blobHTTPHeaders: { blobContentType: 'text/plain' } });
      expect((await b.downloadToBuffer()).toString()).toBe('twoone-');
      const committed = await b.getBlockList('committed');
      expect(committed.committedBlocks?.map((x) => [x.name, x.size])).toEqual([
        [id(2), 3],
        [id(1), 4],
      ]);
    });

    it('conditions: ifNoneMatch "*" refuses to overwrite; ifMatch guards updates', async () => {
      const b = c.getBlockBlobClient('guarded.txt');
      const first = await b.upload('v1', 2, { conditions: { ifNoneMatch: '*' } });
      await expect(b.upload('v2', 2, { conditions: { ifNoneMatch: '*' } })).rejects.toMatchObject({ statusCode: 409, code: 'BlobAlreadyExists' });
      await expect(b.setMetadata({ a: '1' }, { conditions: { ifMatch: '"0x0"' } })).rejects.toMatchObject({ statusCode: 412, code: 'ConditionNotMet' });
      await b.setMetadata({ a: '1' }, { conditions: { ifMatch: first.etag! } });
      expect((await b.getProperties()).metadata).toEqual({ a: '1' });
    });

    it('setHTTPHeaders', async () => {
      const b = c.getBlockBlobClient('headers.txt');
      await b.upload('h', 1);
      await b.setHTTPHeaders({ blobContentType: 'application/json', blobCacheControl: 'max-age=60', blobContentDisposition: 'inline' });
      const p = await b.getProperties();
      expect([p.contentType, p.cacheControl, p.contentDisposition]).toEqual(['application/json', 'max-age=60', 'inline']);
    });

    it('listBlobsFlat with metadata, listBlobsByHierarchy, and paging with continuation tokens', async () => {
      const tree = new BlobServiceClient(a.url, new StorageSharedKeyCredential(a.name, a.key1)).getContainerClient('tree');
      await tree.create();
      const names = ['a.txt', 'x/1.txt', 'x/2.txt', 'x/y/3.txt', 'z.txt'];
      for (const n of names) await tree.getBlockBlobClient(n).upload(n, n.length, { metadata: { n: 'v' } });
      const flat = [];
      for await (const x of tree.listBlobsFlat({ includeMetadata: true })) {
        flat.push(x.name);
        expect(x.metadata).toEqual({ n: 'v' });
        expect(x.properties.contentLength).toBe(x.name.length);
      }
      expect(flat).toEqual(names);
      const top = [];
      for await (const x of tree.listBlobsByHierarchy('/')) top.push(x.kind === 'prefix' ? `${x.name}*` : x.name);
      // The SDK yields a page's prefixes before its blobs.
      expect(top).toEqual(['x/*', 'a.txt', 'z.txt']);
      const inX = [];
      for await (const x of tree.listBlobsByHierarchy('/', { prefix: 'x/' })) inX.push(x.kind === 'prefix' ? `${x.name}*` : x.name);
      expect(inX).toEqual(['x/y/*', 'x/1.txt', 'x/2.txt']);
      const pages: string[][] = [];
      for await (const page of tree.listBlobsFlat().byPage({ maxPageSize: 2 })) pages.push(page.segment.blobItems.map((x) => x.name));
      expect(pages).toEqual([['a.txt', 'x/1.txt'], ['x/2.txt', 'x/y/3.txt'], ['z.txt']]);
    });

    it('service properties and account information', async () => {
      const svc = new BlobServiceClient(a.url, new StorageSharedKeyCredential(a.name, a.key1));
      const props = await svc.getProperties();
      expect(props.deleteRetentionPolicy?.enabled).toBe(false);
      const info = await svc.getAccountInfo();
      expect(info.skuName).toBe('Standard_LRS');
      expect(info.accountKind).toBe('StorageV2');
    });

    it('errors surface as RestError with Storage codes', async () => {
      await expect(c.getBlobClient('nope.txt').download()).rejects.toMatchObject({ statusCode: 404, code: 'BlobNotFound' });
      await expect(c.getBlobClient('nope.txt').getProperties()).rejects.toMatchObject({ statusCode: 404 });
      const ghost = new BlobServiceClient(a.url, new StorageSharedKeyCredential(a.name, a.key1)).getContainerClient('ghost');
      await expect(ghost.getProperties()).rejects.toMatchObject({ statusCode: 404 });
      await expect(c.create()).rejects.toMatchObject({ statusCode: 409, code: 'ContainerAlreadyExists' });
      const wrongKey = new BlobServiceClient(a.url, new StorageSharedKeyCredential(a.name, randomBytes(64).toString('base64')));
      await expect(wrongKey.getContainerClient('ops').getProperties()).rejects.toMatchObject({ statusCode: 403 });
    });
  });

  describe('SAS URLs from the SDK', () => {
    let shared: StorageSharedKeyCredential;
    beforeAll(async () => {
      shared = new StorageSharedKeyCredential(a.name, a.key1);
      const c = new BlobServiceClient(a.url, shared).getContainerClient('shared');
      await c.create();
      await c.getBlockBlobClient('doc.txt').upload('for sharing', 11);
    });

    it('a read-only blob SAS reads, and cannot write', async () => {
      const sas = generateBlobSASQueryParameters(
        { containerName: 'shared', blobName: 'doc.txt', permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 3600_000) },
        shared,
      ).toString();
      const b = new BlobServiceClient(`${a.url}?${sas}`).getContainerClient('shared').getBlockBlobClient('doc.txt');
      expect((await b.downloadToBuffer()).toString()).toBe('for sharing');
      await expect(b.upload('x', 1)).rejects.toMatchObject({ statusCode: 403, code: 'AuthorizationPermissionMismatch' });
    });

    it('generateSasUrl on a container client: list and write but not delete', async () => {
      const c = new BlobServiceClient(a.pathUrl, shared).getContainerClient('shared');
      const url = await c.generateSasUrl({ permissions: ContainerSASPermissions.parse('rwl'), expiresOn: new Date(Date.now() + 3600_000) });
      const viaSas = new ContainerClient(url);
      await viaSas.getBlockBlobClient('new.txt').upload('n', 1);
      const names = [];
      for await (const x of viaSas.listBlobsFlat()) names.push(x.name);
      expect(names).toEqual(['doc.txt', 'new.txt']);
      await expect(viaSas.getBlobClient('new.txt').delete()).rejects.toMatchObject({ statusCode: 403, code: 'AuthorizationPermissionMismatch' });
    });

    it('an expired SAS is 403 AuthenticationFailed', async () => {
      const sas = generateBlobSASQueryParameters(
        { containerName: 'shared', blobName: 'doc.txt', permissions: BlobSASPermissions.parse('r'), startsOn: new Date(Date.now() - 7200_000), expiresOn: new Date(Date.now() - 3600_000) },
        shared,
      ).toString();
      const b = new BlobServiceClient(`${a.url}?${sas}`).getContainerClient('shared').getBlobClient('doc.txt');
      await expect(b.download()).rejects.toMatchObject({ statusCode: 403, code: 'AuthenticationFailed' });
    });

    it('a blob SAS with response header overrides', async () => {
      const sas = generateBlobSASQueryParameters(
        { containerName: 'shared', blobName: 'doc.txt', permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 3600_000), contentType: 'text/csv', contentDisposition: 'attachment; filename=d.csv' },
        shared,
      ).toString();
      const r = await new BlobServiceClient(`${a.url}?${sas}`).getContainerClient('shared').getBlobClient('doc.txt').download();
      expect(r.contentType).toBe('text/csv');
      expect(r.contentDisposition).toBe('attachment; filename=d.csv');
    });
  });
});
