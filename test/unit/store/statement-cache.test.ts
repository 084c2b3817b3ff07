import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { CachingSqliteDatabase } from '../../../src/store/statement-cache.js';

interface T {
  t: { id: number; v: string };
}

describe('CachingSqliteDatabase (prepared statements reused by SQL text)', () => {
  let raw: BetterSqlite3.Database;
  let cached: CachingSqliteDatabase;
  let db: Kysely<T>;

  async function open(capacity?: number): Promise<void> {
    raw = new BetterSqlite3(':memory:');
    cached = new CachingSqliteDatabase(raw, capacity);
    db = new Kysely<T>({ dialect: new SqliteDialect({ database: cached }) });
    await sql`create table t (id integer primary key, v text not null)`.execute(db);
  }

  afterEach(async () => {
    await db.destroy();
  });

  it('returns the same statement for the same SQL, and answers reads and writes correctly through it', async () => {
    await open();
    expect(cached.prepare('select 1 as x')).toBe(cached.prepare('select 1 as x'));
    for (let i = 1; i <= 3; i++) {
      const r = await db.insertInto('t').values({ id: i, v: `v${i}` }).executeTakeFirst();
      expect(r.insertId).toBe(BigInt(i));
    }
    const upd = await db.updateTable('t').set({ v: 'changed' }).where('id', '=', 2).executeTakeFirst();
    expect(upd.numUpdatedRows).toBe(1n);
    for (let i = 1; i <= 3; i++) {
      const row = await db.selectFrom('t').selectAll().where('id', '=', i).executeTakeFirstOrThrow();
      expect(row.v).toBe(i === 2 ? 'changed' : `v${i}`);
    }
  });

  it('is bounded: the least recently used statement falls out', async () => {
    await open(3);
    const hot = cached.prepare('select 0');
    for (let i = 1; i <= 5; i++) {
      cached.prepare(`select ${i}`);
      expect(cached.prepare('select 0')).toBe(hot);
    }
    expect(cached.size).toBe(3);
    expect(cached.prepare('select 1')).not.toBe(cached.prepare('select 0'));
  });

  it('gives a busy statement (a stream still open) a fresh one instead of the shared one', async () => {
    await open();
    await db.insertInto('t').values([{ id: 1, v: 'a' }, { id: 2, v: 'b' }]).execute();
    const text = 'select id from t order by id';
    const streaming = cached.prepare(text) as unknown as BetterSqlite3.Statement;
    const it = streaming.iterate();
    expect(it.next().value).toEqual({ id: 1 });
    const other = cached.prepare(text) as unknown as BetterSqlite3.Statement;
    expect(other).not.toBe(streaming);
    expect(other.all()).toEqual([{ id: 1 }, { id: 2 }]);
    expect(it.next().value).toEqual({ id: 2 });
    it.return?.();
  });
});
