import type { SasParams } from '../auth/sas.js';
import { checkRead, checkWrite, parseConditions } from '../conditions.js';
import type { StorageAccount } from '../domain/accounts.js';
import type { BlobRecord, BlobService } from '../domain/service.js';
import {
  blobNotFound,
  containerNotFound,
  invalidHeaderValue,
  invalidQueryParameterValue,
  outOfRangeQueryParameterValue,
  publicAccessNotPermitted,
  storageError,
} from '../errors.js';
import { checkBlobName, checkContainerName, isValidBlockId } from '../names.js';
import type { OperationName } from '../operations.js';
import { contentRange, parseRange, resolveRange } from '../range.js';
import { blockListXml, listBlobsXml, listContainersXml, parseBlockList, servicePropertiesXml, type ListEntry } from '../xml.js';
import { readBody } from './body.js';
import type { Exchange } from './exchange.js';
import { blobHeaders, md5, metadataHeaders, readBlobProperties, readMetadata, verifyContentMd5 } from './headers.js';

/** Step 3 and 5 for each operation: do it, and answer in Storage's wire format. */
export type OperationHandler = (ex: Exchange, deps: HandlerDeps) => Promise<void>;

export interface HandlerDeps {
  blobs: BlobService;
  limits: { maxBlobBody: number; maxBlockBody: number; maxBlockListBody: number };
}

const MAX_RANGE_MD5 = 4 * 1024 * 1024;

interface Addressed {
  account: StorageAccount;
  container: string;
  blob: string;
}

function container(ex: Exchange): { account: StorageAccount; container: string } {
  const container = ex.target!.container!;
  checkContainerName(container);
  return { account: ex.account!, container };
}

function blob(ex: Exchange): Addressed {
  const c = container(ex);
  const name = ex.target!.blob!;
  checkBlobName(name);
  return { ...c, blob: name };
}

const ref = (a: Addressed) => ({ account: a.account.name, container: a.container, name: a.blob });

function maxResults(ex: Exchange): number {
  const raw = ex.target!.query.get('maxresults');
  if (raw === undefined) return 5000;
  if (!/^-?\d+$/.test(raw)) throw invalidQueryParameterValue('maxresults', raw);
  const n = Number(raw);
  if (n < 1 || n > 5000) throw outOfRangeQueryParameterValue('maxresults', raw, 1, 5000);
  return n;
}

const includes = (ex: Exchange, what: string): boolean =>
  (ex.target!.query.get('include') ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .includes(what);

const dates = (lastModified: number) => ({ 'Last-Modified': new Date(lastModified).toUTCString() });

/** A service SAS may override response headers of reads (rscc, rscd, rsce, rscl, rsct). */
function sasOverrides(ex: Exchange): Record<string, string | undefined> {
  const p = ex.principal;
  if (p?.kind !== 'sas') return {};
  const s: SasParams = p.sas;
  return { 'Cache-Control': s.rscc, 'Content-Disposition': s.rscd, 'Content-Encoding': s.rsce, 'Content-Language': s.rscl, 'Content-Type': s.rsct };
}

function withOverrides(base: Record<string, string | undefined>, overrides: Record<string, string | undefined>): Record<string, string | undefined> {
  const out = { ...base };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) out[k] = v;
  return out;
}

async function requireBlob(ex: Exchange, deps: HandlerDeps, a: Addressed): Promise<BlobRecord> {
  const b = await deps.blobs.getBlob(a.account.name, a.container, a.blob);
  if (b) return b;
  // Azure says which one is missing.
  if (!(await deps.blobs.getContainer(a.account.name, a.container))) throw containerNotFound();
  throw blobNotFound();
}

/** Back-pressure: wait until the socket takes more, or until it is gone. */
function drained(ex: Exchange): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      ex.res.off('drain', done);
      ex.res.off('close', done);
      resolve();
    };
    ex.res.once('drain', done);
    ex.res.once('close', done);
  });
}

export const handlers: Record<OperationName, OperationHandler> = {
  async ListContainers(ex, deps) {
    const q = ex.target!.query;
    const max = maxResults(ex);
    const prefix = q.get('prefix');
    const marker = q.get('marker') || undefined;
    const page = await deps.blobs.listContainers(ex.account!.name, { prefix, marker, max });
    const withMetadata = includes(ex, 'metadata');
    ex.sendXml(
      200,
      listContainersXml({
        serviceEndpoint: ex.target!.serviceEndpoint,
        prefix,
        marker: q.get('marker'),
        maxResults: q.has('maxresults') ? max : undefined,
        containers: page.items.map((c) => ({ name: c.name, lastModified: c.lastModified, etag: c.etag, metadata: withMetadata ? c.metadata : undefined })),
        nextMarker: page.nextMarker,
      }),
    );
  },

  async GetServiceProperties(ex) {
    ex.sendXml(200, servicePropertiesXml());
  },

  async GetAccountInformation(ex) {
    ex.send(200, { 'x-ms-sku-name': ex.account!.skuName, 'x-ms-account-kind': ex.account!.kind, 'x-ms-is-hns-enabled': 'false' });
  },

  async CreateContainer(ex, deps) {
    const { account, container: name } = container(ex);
    const access = ex.header('x-ms-blob-public-access');
    if (access !== undefined && access !== '') throw publicAccessNotPermitted();
    const { record } = await deps.blobs.createContainer(account.name, name, readMetadata(ex.req));
    ex.send(201, { ETag: record.etag, ...dates(record.lastModified) });
  },

  async DeleteContainer(ex, deps) {
    const { account, container: name } = container(ex);
    const cond = parseConditions(ex.req.headers);
    const deleted = await deps.blobs.deleteContainer(account.name, name, (cur) => checkWrite(cond, cur));
    if (!deleted) throw containerNotFound();
    ex.send(202);
  },

  async GetContainerProperties(ex, deps) {
    const { account, container: name } = container(ex);
    const c = await deps.blobs.getContainer(account.name, name);
    if (!c) throw containerNotFound();
    ex.send(200, {
      ETag: c.etag,
      ...dates(c.lastModified),
      ...metadataHeaders(c.metadata),
      'x-ms-lease-status': 'unlocked',
      'x-ms-lease-state': 'available',
      'x-ms-has-immutability-policy': 'false',
      'x-ms-has-legal-hold': 'false',
      'x-ms-default-encryption-scope': '$account-encryption-key',
      'x-ms-deny-encryption-scope-override': 'false',
      'x-ms-immutable-storage-with-versioning-enabled': 'false',
    });
  },

  async SetContainerMetadata(ex, deps) {
    const { account, container: name } = container(ex);
    const cond = parseConditions(ex.req.headers);
    const c = await deps.blobs.setContainerMetadata(account.name, name, readMetadata(ex.req), (cur) => checkWrite(cond, cur));
    ex.send(200, { ETag: c.etag, ...dates(c.lastModified) });
  },

  async ListBlobs(ex, deps) {
    const { account, container: name } = container(ex);
    const q = ex.target!.query;
    const max = maxResults(ex);
    const prefix = q.get('prefix');
    const delimiter = q.get('delimiter') || undefined;
    const page = await deps.blobs.listBlobs(account.name, name, { prefix, delimiter, marker: q.get('marker') || undefined, max });
    const withMetadata = includes(ex, 'metadata');
    const entries: ListEntry[] = page.items.map((i) =>
      i.kind === 'prefix'
        ? i
        : {
            kind: 'blob',
            name: i.blob.name,
            createdAt: i.blob.createdAt,
            lastModified: i.blob.lastModified,
            etag: i.blob.etag,
            size: i.blob.size,
            contentType: i.blob.contentType,
            contentEncoding: i.blob.contentEncoding,
            contentLanguage: i.blob.contentLanguage,
            contentMd5: i.blob.contentMd5,
            cacheControl: i.blob.cacheControl,
            contentDisposition: i.blob.contentDisposition,
            metadata: withMetadata ? i.blob.metadata : undefined,
          },
    );
    ex.sendXml(
      200,
      listBlobsXml({
        serviceEndpoint: ex.target!.serviceEndpoint,
        container: name,
        prefix,
        marker: q.get('marker'),
        maxResults: q.has('maxresults') ? max : undefined,
        delimiter,
        entries,
        nextMarker: page.nextMarker,
      }),
    );
  },

  async PutBlob(ex, deps) {
    const a = blob(ex);
    const { data: body, md5: received } = await readBody(ex.req, deps.limits.maxBlobBody);
    const computed = verifyContentMd5(ex.req, received);
    const props = readBlobProperties(ex.req, { plainHeaders: true, defaultContentType: 'application/octet-stream' });
    // Put Blob stores the MD5 it computed unless the client names one for the blob explicitly.
    props.contentMd5 ??= computed;
    const cond = parseConditions(ex.req.headers);
    const b = await deps.blobs.putBlob(ref(a), body, props, readMetadata(ex.req), (cur) => checkWrite(cond, cur, { noneMatchStarConflict: true }));
    ex.send(201, { ETag: b.etag, ...dates(b.lastModified), 'Content-MD5': computed, 'x-ms-request-server-encrypted': 'true' });
  },

  async GetBlob(ex, deps) {
    const a = blob(ex);
    const b = await requireBlob(ex, deps, a);
    checkRead(parseConditions(ex.req.headers), b);
    const r = resolveRange(parseRange(ex.header('range'), ex.header('x-ms-range')), b.size);
    const wantRangeMd5 = r.partial && ex.header('x-ms-range-get-content-md5')?.toLowerCase() === 'true';
    if (wantRangeMd5 && r.length > MAX_RANGE_MD5) throw storageError(400, 'OutOfRangeInput', 'One of the request inputs is out of range.');
    const headers: Record<string, string | number | undefined> = {
      ...withOverrides(blobHeaders(b), sasOverrides(ex)),
      'Content-Length': r.length,
      'Accept-Ranges': 'bytes',
      'Content-Range': r.partial ? contentRange(r, b.size) : undefined,
      // The stored MD5 describes the whole blob: sent as Content-MD5 only for whole reads.
      'Content-MD5': r.partial ? undefined : (b.contentMd5 ?? undefined),
      'x-ms-blob-content-md5': r.partial ? (b.contentMd5 ?? undefined) : undefined,
    };
    const status = r.partial ? 206 : 200;
    if (wantRangeMd5 || r.length <= 64 * 1024) {
      // Small or hashed reads: collect, then answer in one write (and a read failure is still a clean error).
      const parts: Buffer[] = [];
      for await (const p of deps.blobs.read(b, r.start, r.length)) parts.push(p);
      const data = Buffer.concat(parts);
      if (wantRangeMd5) headers['Content-MD5'] = md5(data);
      ex.send(status, headers, data);
      return;
    }
    ex.start(status, headers);
    for await (const p of deps.blobs.read(b, r.start, r.length)) {
      if (!ex.res.write(p)) await drained(ex);
      // The client went away: stop reading pieces nobody will receive.
      if (ex.res.destroyed) return;
    }
    ex.res.end();
  },

  async GetBlobProperties(ex, deps) {
    const a = blob(ex);
    const b = await requireBlob(ex, deps, a);
    checkRead(parseConditions(ex.req.headers), b);
    ex.send(200, {
      ...withOverrides(blobHeaders(b), sasOverrides(ex)),
      'Content-Length': b.size,
      'Content-MD5': b.contentMd5 ?? undefined,
      'Accept-Ranges': 'bytes',
      'x-ms-access-tier': 'Hot',
      'x-ms-access-tier-inferred': 'true',
    });
  },

  async GetBlobMetadata(ex, deps) {
    const a = blob(ex);
    const b = await requireBlob(ex, deps, a);
    checkRead(parseConditions(ex.req.headers), b);
    ex.send(200, { ETag: b.etag, ...dates(b.lastModified), ...metadataHeaders(b.metadata) });
  },

  async DeleteBlob(ex, deps) {
    const a = blob(ex);
    // There are no snapshots: `include` deletes the blob as usual, `only` finds nothing to delete.
    const snapshots = ex.header('x-ms-delete-snapshots');
    if (snapshots !== undefined && snapshots !== 'include' && snapshots !== 'only') throw invalidHeaderValue('x-ms-delete-snapshots', snapshots);
    const cond = parseConditions(ex.req.headers);
    if (snapshots === 'only') {
      checkWrite(cond, await requireBlob(ex, deps, a));
      ex.send(202);
      return;
    }
    await deps.blobs.deleteBlob(ref(a), (cur) => checkWrite(cond, cur));
    ex.send(202, { 'x-ms-delete-type-permanent': 'true' });
  },

  async SetBlobMetadata(ex, deps) {
    const a = blob(ex);
    const cond = parseConditions(ex.req.headers);
    const b = await deps.blobs.updateBlob(ref(a), { metadata: readMetadata(ex.req) }, (cur) => checkWrite(cond, cur));
    ex.send(200, { ETag: b.etag, ...dates(b.lastModified), 'x-ms-request-server-encrypted': 'true' });
  },

  async SetBlobProperties(ex, deps) {
    const a = blob(ex);
    const cond = parseConditions(ex.req.headers);
    // Set Blob Properties replaces all HTTP properties: one left out is cleared, as the service does.
    const props = readBlobProperties(ex.req, { plainHeaders: false, defaultContentType: null });
    const b = await deps.blobs.updateBlob(ref(a), { props }, (cur) => checkWrite(cond, cur));
    ex.send(200, { ETag: b.etag, ...dates(b.lastModified) });
  },

  async PutBlock(ex, deps) {
    const a = blob(ex);
    const id = ex.target!.query.get('blockid');
    if (id === undefined) throw storageError(400, 'MissingRequiredQueryParameter', 'A query parameter that\'s mandatory for this request is not specified.', { xml: [['QueryParameterName', 'blockid']] });
    if (!isValidBlockId(id)) throw invalidQueryParameterValue('blockid', id);
    const { data: body, md5: received } = await readBody(ex.req, deps.limits.maxBlockBody);
    const computed = verifyContentMd5(ex.req, received);
    await deps.blobs.putBlock(ref(a), id, body);
    ex.send(201, { 'Content-MD5': computed, 'x-ms-request-server-encrypted': 'true' });
  },

  async PutBlockList(ex, deps) {
    const a = blob(ex);
    const { data: body, md5: received } = await readBody(ex.req, deps.limits.maxBlockListBody);
    const computed = verifyContentMd5(ex.req, received);
    const entries = parseBlockList(body, 50_000);
    const props = readBlobProperties(ex.req, { plainHeaders: false, defaultContentType: 'application/octet-stream' });
    const cond = parseConditions(ex.req.headers);
    const b = await deps.blobs.commitBlockList(ref(a), entries, props, readMetadata(ex.req), (cur) => checkWrite(cond, cur, { noneMatchStarConflict: true }));
    ex.send(201, {
      ETag: b.etag,
      ...dates(b.lastModified),
      'Content-MD5': computed,
      'x-ms-request-server-encrypted': 'true',
    });
  },

  async GetBlockList(ex, deps) {
    const a = blob(ex);
    const type = (ex.target!.query.get('blocklisttype') ?? 'committed').toLowerCase();
    if (type !== 'committed' && type !== 'uncommitted' && type !== 'all') throw invalidQueryParameterValue('blocklisttype', type);
    const list = await deps.blobs.getBlockList(ref(a), type);
    if (list.blob) checkRead(parseConditions(ex.req.headers), list.blob);
    ex.sendXml(200, blockListXml(list.committed, list.uncommitted), {
      ...(list.blob ? { ETag: list.blob.etag, ...dates(list.blob.lastModified), 'x-ms-blob-content-length': list.blob.size } : {}),
    });
  },
};
