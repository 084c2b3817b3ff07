import { randomInt } from 'node:crypto';
import { timeOrderedGuid } from '../../core/ids.js';
import { sql } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { Store, Tx } from '../../store/index.js';
import { blobNotFound, containerAlreadyExists, containerNotFound, invalidBlobOrBlock, invalidBlockList, storageError } from '../errors.js';
import type { BlockListEntry } from '../xml.js';
import * as repo from './repository.js';

/**
 * Containers and block blobs: the data logic of the Blob surface, with no HTTP in it. Writes run in one store
 * transaction each, and preconditions (ETags, existence) are checked inside it, so a conditional write is a
 * compare-and-set even with several replicas on PostgreSQL.
 */

/** One piece of a committed blob: a data row id, its size, and the block id it was staged under (if any). */
export interface BlockRef {
  d: string;
  s: number;
  b?: string;
}

export interface ContainerRecord {
  account: string;
  name: string;
  metadata: Record<string, string>;
  etag: string;
  createdAt: number;
  lastModified: number;
}

export interface BlobHttpProperties {
  contentType: string | null;
  contentEncoding: string | null;
  contentLanguage: string | null;
  contentMd5: string | null;
  cacheControl: string | null;
  contentDisposition: string | null;
}

export interface BlobRecord extends BlobHttpProperties {
  account: string;
  container: string;
  name: string;
  size: number;
  metadata: Record<string, string>;
  blocks: BlockRef[];
  etag: string;
  createdAt: number;
  lastModified: number;
}

export type Precondition<T> = (current: T | undefined) => void;

/** Put Blob bodies are cut into pieces this size so ranged reads touch only what they need. */
export const PIECE_BYTES = 4 * 1024 * 1024;
export const MAX_COMMITTED_BLOCKS = 50_000;
const MAX_UNCOMMITTED_BLOCKS = 100_000;

let lastTicks = 0n;
/**
 * Azure-style ETags: .NET ticks of the write, in hex (`"0x8DC…"`). A random sub-millisecond part keeps replicas
 * from minting the same value; the process never issues the same one twice.
 */
export function newEtag(nowMs: number): string {
  let ticks = BigInt(nowMs) * 10_000n + 621_355_968_000_000_000n + BigInt(randomInt(10_000));
  if (ticks <= lastTicks) ticks = lastTicks + 1n;
  lastTicks = ticks;
  return `"0x${ticks.toString(16).toUpperCase()}"`;
}

const parseJson = <T>(text: string, fallback: T): T => {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
};

const toContainer = (r: repo.ContainerRow): ContainerRecord => ({
  account: r.account,
  name: r.name,
  metadata: parseJson(r.metadata, {}),
  etag: r.etag,
  createdAt: Number(r.created_at),
  lastModified: Number(r.last_modified),
});

const toBlob = (r: repo.BlobRow): BlobRecord => ({
  account: r.account,
  container: r.container,
  name: r.name,
  size: Number(r.size),
  contentType: r.content_type,
  contentEncoding: r.content_encoding,
  contentLanguage: r.content_language,
  contentMd5: r.content_md5,
  cacheControl: r.cache_control,
  contentDisposition: r.content_disposition,
  metadata: parseJson(r.metadata, {}),
  blocks: parseJson(r.blocks, []),
  etag: r.etag,
  createdAt: Number(r.created_at),
  lastModified: Number(r.last_modified),
});

const toRow = (b: BlobRecord): repo.BlobRow => ({
  account: b.account,
  container: b.container,
  name: b.name,
  size: b.size,
  content_type: b.contentType,
  content_encoding: b.contentEncoding,
  content_language: b.contentLanguage,
  content_md5: b.contentMd5,
  cache_control: b.cacheControl,
  content_disposition: b.contentDisposition,
  metadata: JSON.stringify(b.metadata),
  blocks: JSON.stringify(b.blocks),
  etag: b.etag,
  created_at: b.createdAt,
  last_modified: b.lastModified,
});

export interface ListPage<T> {
  items: T[];
  nextMarker: string | undefined;
}

export type BlobListEntry = { kind: 'blob'; blob: BlobRecord } | { kind: 'prefix'; name: string };

export class BlobService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  private tx<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.store.transaction((tx) => fn(tx));
  }

  private async requireContainer(q: Tx | Store['db'], account: string, container: string): Promise<void> {
    if (!(await repo.containers.get(q, account, container))) throw containerNotFound();
  }

  // --- containers ---

  async getContainer(account: string, name: string): Promise<ContainerRecord | undefined> {
    const r = await repo.containers.get(this.store.db, account, name);
    return r ? toContainer(r) : undefined;
  }

  /** Creates a container; `ifExists: 'fail'` is the data plane (409), `'update'` is ARM's idempotent PUT. */
  async createContainer(account: string, name: string, metadata: Record<string, string>, ifExists: 'fail' | 'update' = 'fail'): Promise<{ record: ContainerRecord; created: boolean }> {
    return this.tx(async (tx) => {
      const now = this.clock.now();
      const row: repo.ContainerRow = { account, name, metadata: JSON.stringify(metadata), etag: newEtag(now), created_at: now, last_modified: now };
      if (await repo.containers.insert(tx, row)) return { record: toContainer(row), created: true };
      if (ifExists === 'fail') throw containerAlreadyExists();
      await repo.containers.update(tx, account, name, { metadata: row.metadata, etag: row.etag, last_modified: now });
      return { record: toContainer((await repo.containers.get(tx, account, name))!), created: false };
    });
  }

  async setContainerMetadata(account: string, name: string, metadata: Record<string, string>, check?: Precondition<ContainerRecord>): Promise<ContainerRecord> {
    return this.tx(async (tx) => {
      const cur = await repo.containers.get(tx, account, name);
      if (!cur) throw containerNotFound();
      check?.(toContainer(cur));
      const now = this.clock.now();
      const set = { metadata: JSON.stringify(metadata), etag: newEtag(now), last_modified: now };
      await repo.containers.update(tx, account, name, set);
      return toContainer({ ...cur, ...set });
    });
  }

  /** Deletes a container and everything in it; false when there was none. */
  async deleteContainer(account: string, name: string, check?: Precondition<ContainerRecord>): Promise<boolean> {
    return this.tx(async (tx) => {
      const cur = await repo.containers.get(tx, account, name);
      if (!cur) return false;
      check?.(toContainer(cur));
      await repo.purge(tx, account, name);
      return true;
    });
  }

  async listContainers(account: string, opts: { prefix?: string | undefined; marker?: string | undefined; max: number }): Promise<ListPage<ContainerRecord>> {
    const rows = await repo.containers.page(this.store.db, account, {
      from: opts.marker ? { value: opts.marker, inclusive: true } : undefined,
      prefix: opts.prefix,
      limit: opts.max + 1,
    });
    const items = rows.slice(0, opts.max).map(toContainer);
    return { items, nextMarker: rows.length > opts.max ? rows[opts.max]!.name : undefined };
  }

  /** Every container name of an account (ARM's container list). */
  async allContainers(account: string): Promise<ContainerRecord[]> {
    const out: ContainerRecord[] = [];
    let marker: string | undefined;
    do {
      const page = await this.listContainers(account, { marker, max: 5000 });
      out.push(...page.items);
      marker = page.nextMarker;
    } while (marker !== undefined);
    return out;
  }

  // --- blobs ---

  async getBlob(account: string, container: string, name: string): Promise<BlobRecord | undefined> {
    const r = await repo.blobs.get(this.store.db, account, container, name);
    return r ? toBlob(r) : undefined;
  }

  async blobExists(account: string, container: string, name: string): Promise<boolean> {
    return repo.blobs.exists(this.store.db, account, container, name);
  }

  /** Put Blob: replaces the blob (and drops its uncommitted blocks) in one transaction. */
  async putBlob(
    target: { account: string; container: string; name: string },
    body: Buffer,
    props: BlobHttpProperties,
    metadata: Record<string, string>,
    check?: Precondition<BlobRecord>,
  ): Promise<BlobRecord> {
    const { account, container, name } = target;
    return this.tx(async (tx) => {
      await this.requireContainer(tx, account, container);
      const cur = await repo.blobs.get(tx, account, container, name);
      const current = cur ? toBlob(cur) : undefined;
      check?.(current);
      await repo.data.deleteForBlob(tx, account, container, name);
      const now = this.clock.now();
      const pieces: repo.NewDataRow[] = [];
      for (let off = 0; off < body.length; off += PIECE_BYTES) {
        const part = body.subarray(off, Math.min(off + PIECE_BYTES, body.length));
        pieces.push({ id: timeOrderedGuid(), account, container, blob: name, block_id: null, staged: 0, size: part.length, data: part, created_at: now });
      }
      await repo.data.insert(tx, pieces);
      const record: BlobRecord = {
        account,
        container,
        name,
        size: body.length,
        ...props,
        metadata,
        blocks: pieces.map((p) => ({ d: p.id, s: p.size })),
        etag: newEtag(now),
        createdAt: current?.createdAt ?? now,
        lastModified: now,
      };
      await repo.blobs.put(tx, toRow(record));
      return record;
    });
  }

  /** Put Block: stages `data` under `blockId`, replacing an earlier uncommitted block of the same id. */
  async putBlock(target: { account: string; container: string; name: string }, blockId: string, body: Buffer): Promise<void> {
    const { account, container, name } = target;
    await this.tx(async (tx) => {
      await this.requireContainer(tx, account, container);
      const stats = await tx
        .selectFrom('blob_data')
        .select([sql<number>`count(*)`.as('n'), sql<number | null>`min(length(block_id))`.as('lo'), sql<number | null>`max(length(block_id))`.as('hi')])
        .where('account', '=', account)
        .where('container', '=', container)
        .where('blob', '=', name)
        .where('block_id', 'is not', null)
        .executeTakeFirst();
      // All block ids of one blob must have the same length (Azure: InvalidBlobOrBlock).
      const lo = stats?.lo == null ? undefined : Number(stats.lo);
      const hi = stats?.hi == null ? undefined : Number(stats.hi);
      if ((lo !== undefined && lo !== blockId.length) || (hi !== undefined && hi !== blockId.length)) throw invalidBlobOrBlock();
      if (Number(stats?.n ?? 0) >= MAX_UNCOMMITTED_BLOCKS) {
        throw storageError(409, 'BlockCountExceedsLimit', 'The uncommitted block count cannot exceed the maximum limit of 100,000 blocks.');
      }
      await repo.data.deleteStagedBlock(tx, account, container, name, blockId);
      await repo.data.insert(tx, [
        { id: timeOrderedGuid(), account, container, blob: name, block_id: blockId, staged: 1, size: body.length, data: body, created_at: this.clock.now() },
      ]);
    });
  }

  /**
   * Put Block List: the blob becomes exactly the listed blocks, taken from the uncommitted set, the committed
   * set, or (Latest) uncommitted-then-committed. Blocks not listed are discarded.
   */
  async commitBlockList(
    target: { account: string; container: string; name: string },
    entries: BlockListEntry[],
    props: BlobHttpProperties,
    metadata: Record<string, string>,
    check?: Precondition<BlobRecord>,
  ): Promise<BlobRecord> {
    const { account, container, name } = target;
    if (entries.length > MAX_COMMITTED_BLOCKS) throw invalidBlockList();
    return this.tx(async (tx) => {
      await this.requireContainer(tx, account, container);
      const cur = await repo.blobs.get(tx, account, container, name);
      const current = cur ? toBlob(cur) : undefined;
      check?.(current);
      const rows = await repo.data.listForBlob(tx, account, container, name);
      const staged = new Map<string, repo.DataRowInfo>();
      for (const r of rows) if (r.staged === 1 && r.block_id !== null) staged.set(r.block_id, r);
      const committed = new Map<string, BlockRef>();
      for (const b of current?.blocks ?? []) if (b.b !== undefined && !committed.has(b.b)) committed.set(b.b, b);

      const blocks: BlockRef[] = [];
      for (const e of entries) {
        const fromStaged = e.list !== 'Committed' ? staged.get(e.id) : undefined;
        const ref = fromStaged ? { d: fromStaged.id, s: Number(fromStaged.size), b: e.id } : e.list !== 'Uncommitted' ? committed.get(e.id) : undefined;
        if (!ref) throw invalidBlockList();
        blocks.push(ref);
      }
      const keep = new Set(blocks.map((b) => b.d));
      await repo.data.deleteIds(tx, rows.filter((r) => !keep.has(r.id)).map((r) => r.id));
      await repo.data.commitIds(tx, rows.filter((r) => r.staged === 1 && keep.has(r.id)).map((r) => r.id));
      const now = this.clock.now();
      const record: BlobRecord = {
        account,
        container,
        name,
        size: blocks.reduce((n, b) => n + b.s, 0),
        ...props,
        metadata,
        blocks,
        etag: newEtag(now),
        createdAt: current?.createdAt ?? now,
        lastModified: now,
      };
      await repo.blobs.put(tx, toRow(record));
      return record;
    });
  }

  async getBlockList(
    target: { account: string; container: string; name: string },
    which: 'committed' | 'uncommitted' | 'all',
  ): Promise<{ blob: BlobRecord | undefined; committed: { name: string; size: number }[] | undefined; uncommitted: { name: string; size: number }[] | undefined }> {
    const { account, container, name } = target;
    await this.requireContainer(this.store.db, account, container);
    const blob = await this.getBlob(account, container, name);
    const stagedRows = which === 'committed' ? [] : await repo.data.listForBlob(this.store.db, account, container, name, 1);
    if (!blob && stagedRows.length === 0) throw blobNotFound();
    return {
      blob,
      committed: which === 'uncommitted' ? undefined : (blob?.blocks ?? []).filter((b) => b.b !== undefined).map((b) => ({ name: b.b!, size: b.s })),
      uncommitted: which === 'committed' ? undefined : stagedRows.map((r) => ({ name: r.block_id ?? '', size: Number(r.size) })),
    };
  }

  /** Set Blob Metadata / Set Blob Properties: a new ETag and Last-Modified, same bytes. */
  async updateBlob(
    target: { account: string; container: string; name: string },
    change: { metadata?: Record<string, string>; props?: BlobHttpProperties },
    check?: Precondition<BlobRecord>,
  ): Promise<BlobRecord> {
    const { account, container, name } = target;
    return this.tx(async (tx) => {
      await this.requireContainer(tx, account, container);
      const cur = await repo.blobs.get(tx, account, container, name);
      if (!cur) throw blobNotFound();
      const current = toBlob(cur);
      check?.(current);
      const now = this.clock.now();
      const next: BlobRecord = { ...current, ...(change.props ?? {}), metadata: change.metadata ?? current.metadata, etag: newEtag(now), lastModified: now };
      await repo.blobs.put(tx, toRow(next));
      return next;
    });
  }

  async deleteBlob(target: { account: string; container: string; name: string }, check?: Precondition<BlobRecord>): Promise<void> {
    const { account, container, name } = target;
    await this.tx(async (tx) => {
      await this.requireContainer(tx, account, container);
      const cur = await repo.blobs.get(tx, account, container, name);
      if (!cur) throw blobNotFound();
      check?.(toBlob(cur));
      await repo.data.deleteForBlob(tx, account, container, name);
      await repo.blobs.delete(tx, account, container, name);
    });
  }

  /**
   * List Blobs: names in byte order from `marker`, under `prefix`; with a delimiter, names that continue past
   * it collapse into one BlobPrefix each. `max` counts blobs and prefixes alike, and the next marker is the
   * first name not returned (so a prefix that did not fit comes back first on the next page).
   */
  async listBlobs(
    account: string,
    container: string,
    opts: { prefix?: string | undefined; delimiter?: string | undefined; marker?: string | undefined; max: number },
  ): Promise<ListPage<BlobListEntry>> {
    await this.requireContainer(this.store.db, account, container);
    const prefix = opts.prefix ?? '';
    const items: BlobListEntry[] = [];
    let from: repo.Cursor | undefined = opts.marker ? { value: opts.marker, inclusive: true } : undefined;
    const batch = Math.min(opts.max + 1, 1000);
    for (;;) {
      const rows = await repo.blobs.page(this.store.db, account, container, { from, prefix: prefix || undefined, limit: batch });
      if (rows.length === 0) return { items, nextMarker: undefined };
      let jumped = false;
      for (const row of rows) {
        if (items.length === opts.max) return { items, nextMarker: row.name };
        const rest = row.name.slice(prefix.length);
        const at = opts.delimiter ? rest.indexOf(opts.delimiter) : -1;
        if (at >= 0) {
          const group = prefix + rest.slice(0, at + opts.delimiter!.length);
          items.push({ kind: 'prefix', name: group });
          const upper = repo.prefixUpperBound(group);
          if (upper === undefined) return { items, nextMarker: undefined };
          from = { value: upper, inclusive: true };
          jumped = true;
          break;
        }
        items.push({ kind: 'blob', blob: toBlob(row) });
      }
      if (!jumped) {
        if (rows.length < batch) return { items, nextMarker: undefined };
        from = { value: rows[rows.length - 1]!.name, inclusive: false };
      }
    }
  }

  /**
   * The bytes of `blob` from `start`, `length` of them, piece by piece. Small reads fetch their pieces in one
   * query; large ones slice piece by piece so memory stays at one piece. A piece that vanished (a concurrent
   * overwrite) ends the stream with an error rather than with wrong bytes.
   */
  async *read(blob: BlobRecord, start: number, length: number): AsyncGenerator<Buffer> {
    if (length <= 0) return;
    const wanted: { id: string; offset: number; length: number }[] = [];
    let pos = 0;
    const end = start + length;
    for (const b of blob.blocks) {
      const pieceStart = pos;
      const pieceEnd = pos + b.s;
      pos = pieceEnd;
      if (pieceEnd <= start || pieceStart >= end) continue;
      const from = Math.max(start, pieceStart) - pieceStart;
      const to = Math.min(end, pieceEnd) - pieceStart;
      wanted.push({ id: b.d, offset: from, length: to - from });
    }
    if (length <= 2 * PIECE_BYTES) {
      const pieces = await repo.data.read(this.store.db, [...new Set(wanted.map((w) => w.id))]);
      for (const w of wanted) {
        const p = pieces.get(w.id);
        if (!p) throw new Error(`blob piece ${w.id} disappeared during read`);
        yield p.subarray(w.offset, w.offset + w.length);
      }
      return;
    }
    for (const w of wanted) {
      const part = await repo.data.readSlice(this.store.db, w.id, w.offset, w.length);
      if (!part || part.length !== w.length) throw new Error(`blob piece ${w.id} disappeared during read`);
      yield part;
    }
  }

  /** Inside the ARM delete transaction of a storage account: nothing of it may outlive it. */
  async purgeAccount(tx: Tx, account: string): Promise<void> {
    await repo.purge(tx, account);
  }
}
