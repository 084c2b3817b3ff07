import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { CachingSqliteDatabase } from '../../../src/store/statement-cache.js';
import { holdWriteLock } from '../../support/sqlite-lock.js';

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

  it('starts transactions with BEGIN IMMEDIATE: a read-then-write transaction waits for another connection\'s write lock', async () => {
    // A deferred transaction that has read gets SQLITE_BUSY at its first write, busy timeout or not, while another
    // connection (the WAL checkpointer's RESTART) holds the write lock; an immediate one waits at BEGIN.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-begin-'));
    const file = path.join(dir, 'test.db');
    raw = new BetterSqlite3(file);
    raw.pragma('journal_mode = WAL');
    raw.pragma('busy_timeout = 5000');
    raw.exec('create table t (id integer primary key, v text not null)');
    cached = new CachingSqliteDatabase(raw);
    db = new Kysely<T>({ dialect: new SqliteDialect({ database: cached }) });
    const { released } = await holdWriteLock(file, 300);
    const wrote = await db.transaction().execute(async (tx) => {
      const before = await tx.selectFrom('t').selectAll().execute();
      await tx.insertInto('t').values({ id: 1, v: 'after the lock' }).execute();
      return before.length;
    });
    expect(wrote).toBe(0);
    expect(await db.selectFrom('t').selectAll().execute()).toEqual([{ id: 1, v: 'after the lock' }]);
    await released;
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
