import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { BusyRetrySqliteDialect, isBusy } from '../../../src/store/busy-retry.js';
import { CachingSqliteDatabase } from '../../../src/store/statement-cache.js';
import { holdWriteLock } from '../../support/sqlite-lock.js';

interface T {
  t: { id: number; v: string };
}

describe('BusyRetrySqliteDialect (waits for another connection\'s lock on a timer, not on the event loop)', () => {
  let dir: string;
  let db: Kysely<T>;

  function open(deadlineMs?: number): string {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-busy-'));
    const file = path.join(dir, 'test.db');
    const raw = new BetterSqlite3(file);
    raw.pragma('journal_mode = WAL');
    raw.pragma('busy_timeout = 0');
    raw.exec('create table t (id integer primary key, v text not null)');
    db = new Kysely<T>({ dialect: new BusyRetrySqliteDialect({ database: new CachingSqliteDatabase(raw) }, deadlineMs) });
    return file;
  }

  afterEach(async () => {
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a write and a transaction wait for the lock while the event loop keeps turning', async () => {
    const file = open();
    const { released } = await holdWriteLock(file, 300);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    const t0 = performance.now();
    // Reads are not held up by a writer in WAL mode, and are answered at once.
    expect(await db.selectFrom('t').selectAll().execute()).toEqual([]);
    const afterRead = performance.now() - t0;
    await db.insertInto('t').values({ id: 1, v: 'autocommit' }).execute();
    const n = await db.transaction().execute(async (tx) => {
      const before = await tx.selectFrom('t').selectAll().execute();
      await tx.insertInto('t').values({ id: 2, v: 'transaction' }).execute();
      return before.length;
    });
    const waited = performance.now() - t0;
    clearInterval(ticker);
    await released;
    expect(afterRead).toBeLessThan(100);
    expect(waited).toBeGreaterThan(200);
    // SQLite's own busy handler would have slept through the 300 ms with no tick at all.
    expect(ticks).toBeGreaterThan(15);
    expect(n).toBe(1);
    expect(await db.selectFrom('t').selectAll().orderBy('id').execute()).toEqual([
      { id: 1, v: 'autocommit' },
      { id: 2, v: 'transaction' },
    ]);
  });

  it('gives up with SQLITE_BUSY after its deadline, and the statement did nothing', async () => {
    const file = open(100);
    const { released } = await holdWriteLock(file, 600);
    const t0 = performance.now();
    const err = await db.insertInto('t').values({ id: 1, v: 'too late' }).execute().catch((e: unknown) => e);
    const gaveUpAfter = performance.now() - t0;
    await released;
    expect(isBusy(err)).toBe(true);
    expect(gaveUpAfter).toBeGreaterThan(50);
    expect(gaveUpAfter).toBeLessThan(500);
    expect(await db.selectFrom('t').selectAll().execute()).toEqual([]);
  });

  it('does not retry other errors', async () => {
    open();
    await db.insertInto('t').values({ id: 1, v: 'a' }).execute();
    const err = await db.insertInto('t').values({ id: 1, v: 'b' }).execute().catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('SQLITE_CONSTRAINT_PRIMARYKEY');
  });

  it('isBusy knows SQLITE_BUSY and its extended codes, and nothing else', () => {
    for (const code of ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_BUSY_TIMEOUT']) expect(isBusy({ code })).toBe(true);
    for (const e of [{ code: 'SQLITE_LOCKED' }, { code: 'SQLITE_CONSTRAINT' }, new Error('SQLITE_BUSY'), null, undefined, 'SQLITE_BUSY']) expect(isBusy(e)).toBe(false);
  });
});
