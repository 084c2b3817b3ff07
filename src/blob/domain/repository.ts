import { sql, type Selectable } from 'kysely';
import type { Db, Tx } from '../../store/index.js';
import type { BlobContainerTable, BlobDataTable, BlobObjectTable } from '../../store/schema.js';

/**
 * The Blob tables, statement by statement. Names compare byte-wise in both dialects (see migration 003), so
 * `>`/`<` bounds here are the listing order.
 */
type Q = Db | Tx;

export type ContainerRow = Selectable<BlobContainerTable>;
export type BlobRow = Selectable<BlobObjectTable>;

export interface DataRowInfo {
  id: string;
  block_id: string | null;
  staged: number;
  size: number;
  created_at: number;
}

/** A new piece of blob bytes: the table's row as inserted. */
export type NewDataRow = BlobDataTable;

/** `>= from` (inclusive) or `> from`. */
export interface Cursor {
  value: string;
  inclusive: boolean;
}

// Bound parameters per statement stay well under SQLite's and PostgreSQL's limits.
const BATCH = 500;

export const containers = {
  async get(q: Q, account: string, name: string): Promise<ContainerRow | undefined> {
    return q.selectFrom('blob_containers').selectAll().where('account', '=', account).where('name', '=', name).executeTakeFirst();
  },
  /** Inserts unless present; true when this call created it. */
  async insert(q: Q, row: ContainerRow): Promise<boolean> {
    const r = await q.insertInto('blob_containers').values(row).onConflict((oc) => oc.columns(['account', 'name']).doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  },
  async update(q: Q, account: string, name: string, set: Partial<ContainerRow>): Promise<void> {
    await q.updateTable('blob_containers').set(set).where('account', '=', account).where('name', '=', name).execute();
  },
  async delete(q: Q, account: string, name: string): Promise<boolean> {
    const r = await q.deleteFrom('blob_containers').where('account', '=', account).where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  },
  async page(q: Q, account: string, opts: { from: Cursor | undefined; prefix: string | undefined; limit: number }): Promise<ContainerRow[]> {
    let s = q.selectFrom('blob_containers').selectAll().where('account', '=', account);
    if (opts.from) s = s.where('name', opts.from.inclusive ? '>=' : '>', opts.from.value);
    if (opts.prefix) {
      s = s.where('name', '>=', opts.prefix);
      const upper = prefixUpperBound(opts.prefix);
      if (upper !== undefined) s = s.where('name', '<', upper);
    }
    return s.orderBy('name').limit(opts.limit).execute();
  },
};

export const blobs = {
  async get(q: Q, account: string, container: string, name: string): Promise<BlobRow | undefined> {
    return q.selectFrom('blob_objects').selectAll().where('account', '=', account).where('container', '=', container).where('name', '=', name).executeTakeFirst();
  },
  async exists(q: Q, account: string, container: string, name: string): Promise<boolean> {
    const r = await q.selectFrom('blob_objects').select('etag').where('account', '=', account).where('container', '=', container).where('name', '=', name).executeTakeFirst();
    return r !== undefined;
  },
  async put(q: Q, row: BlobRow): Promise<void> {
    const { account: _a, container: _c, name: _n, ...rest } = row;
    await q
      .insertInto('blob_objects')
      .values(row)
      .onConflict((oc) => oc.columns(['account', 'container', 'name']).doUpdateSet(rest))
      .execute();
  },
  async update(q: Q, account: string, container: string, name: string, set: Partial<BlobRow>): Promise<void> {
    await q.updateTable('blob_objects').set(set).where('account', '=', account).where('container', '=', container).where('name', '=', name).execute();
  },
  async delete(q: Q, account: string, container: string, name: string): Promise<boolean> {
    const r = await q.deleteFrom('blob_objects').where('account', '=', account).where('container', '=', container).where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  },
  async page(q: Q, account: string, container: string, opts: { from: Cursor | undefined; prefix: string | undefined; limit: number }): Promise<BlobRow[]> {
    let s = q.selectFrom('blob_objects').selectAll().where('account', '=', account).where('container', '=', container);
    if (opts.from) s = s.where('name', opts.from.inclusive ? '>=' : '>', opts.from.value);
    if (opts.prefix) {
      s = s.where('name', '>=', opts.prefix);
      const upper = prefixUpperBound(opts.prefix);
      if (upper !== undefined) s = s.where('name', '<', upper);
    }
    return s.orderBy('name').limit(opts.limit).execute();
  },
  async countInContainer(q: Q, account: string, container: string): Promise<number> {
    const r = await q.selectFrom('blob_objects').select((eb) => eb.fn.countAll<number>().as('n')).where('account', '=', account).where('container', '=', container).executeTakeFirst();
    return Number(r?.n ?? 0);
  },
};

export const data = {
  async insert(q: Q, rows: NewDataRow[]): Promise<void> {
    // One row per statement: pieces are up to 4 MiB, and a multi-row insert would only add parameter juggling.
    for (const row of rows) await q.insertInto('blob_data').values(row).execute();
  },
  /** Every data row of a blob (committed pieces and staged blocks), without the bytes. */
  async listForBlob(q: Q, account: string, container: string, blob: string, staged?: 0 | 1): Promise<DataRowInfo[]> {
    let s = q
      .selectFrom('blob_data')
      .select(['id', 'block_id', 'staged', 'size', 'created_at'])
      .where('account', '=', account)
      .where('container', '=', container)
      .where('blob', '=', blob);
    if (staged !== undefined) s = s.where('staged', '=', staged);
    return s.orderBy('created_at').orderBy('id').execute();
  },
  async deleteIds(q: Q, ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += BATCH) {
      await q.deleteFrom('blob_data').where('id', 'in', ids.slice(i, i + BATCH)).execute();
    }
  },
  async commitIds(q: Q, ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += BATCH) {
      await q.updateTable('blob_data').set({ staged: 0 }).where('id', 'in', ids.slice(i, i + BATCH)).execute();
    }
  },
  async deleteStagedBlock(q: Q, account: string, container: string, blob: string, blockId: string): Promise<void> {
    await q
      .deleteFrom('blob_data')
      .where('account', '=', account)
      .where('container', '=', container)
      .where('blob', '=', blob)
      .where('staged', '=', 1)
      .where('block_id', '=', blockId)
      .execute();
  },
  async deleteForBlob(q: Q, account: string, container: string, blob: string): Promise<void> {
    await q.deleteFrom('blob_data').where('account', '=', account).where('container', '=', container).where('blob', '=', blob).execute();
  },
  /** Whole pieces by id (small reads: one round trip). */
  async read(q: Q, ids: string[]): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    for (let i = 0; i < ids.length; i += BATCH) {
      const rows = await q.selectFrom('blob_data').select(['id', 'data']).where('id', 'in', ids.slice(i, i + BATCH)).execute();
      for (const r of rows) out.set(r.id, Buffer.from(r.data));
    }
    return out;
  },
  /** `length` bytes of one piece from `offset`, cut by the database so large blocks never load whole. */
  async readSlice(q: Q, id: string, offset: number, length: number): Promise<Buffer | undefined> {
    const r = await q
      .selectFrom('blob_data')
      .select(sql<Buffer>`substr(data, ${offset + 1}, ${length})`.as('part'))
      .where('id', '=', id)
      .executeTakeFirst();
    return r ? Buffer.from(r.part) : undefined;
  },
};

/** Everything stored for a container or a whole account (container and account deletion). */
export async function purge(q: Q, account: string, container?: string): Promise<void> {
  for (const table of ['blob_data', 'blob_objects', 'blob_containers'] as const) {
    let s = q.deleteFrom(table).where('account', '=', account);
    if (container !== undefined) s = s.where(table === 'blob_containers' ? 'name' : 'container', '=', container);
    await s.execute();
  }
}

/** The account row ARM keeps for a storage account name (names are globally unique and lower-case). */
export async function findAccountResource(q: Q, name: string): Promise<{ id: string; key: string; internal: string; body: string } | undefined> {
  return q
    .selectFrom('resources')
    .select(['id', 'key', 'internal', 'body'])
    .where('type_key', '=', 'microsoft.storage/storageaccounts')
    .where('name', '=', name)
    .executeTakeFirst();
}

/**
 * The smallest string greater than every string that starts with `prefix`, in code-point order: the last code
 * point incremented (undefined if the prefix is all U+10FFFF, which has no upper bound).
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const cps = [...prefix];
  while (cps.length > 0) {
    const cp = cps.pop()!.codePointAt(0)!;
    if (cp < 0x10ffff) {
      const next = cp + 1 === 0xd800 ? 0xe000 : cp + 1;
      return cps.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}
