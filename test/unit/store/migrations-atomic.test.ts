import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, type Migration } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { BusyRetrySqliteDialect } from '../../../src/store/busy-retry.js';
import { CachingSqliteDatabase } from '../../../src/store/statement-cache.js';

/**
 * A process killed part-way through its migrations must leave a store that opens again. The kill is taken as a
 * copy of the database file and its WAL at that moment — what the OS holds once the process is gone — and the
 * copy is then migrated the way the next start would. (Crash-safety's seeded schedule once killed a first start
 * between `create table meta` and the migration's own record; the restart failed with "table meta already exists".)
 */
describe('SQLite migrations are all or nothing', () => {
  const dirs: string[] = [];
  const dbs: Kysely<unknown>[] = [];
  afterEach(async () => {
    for (const db of dbs.splice(0)) await db.destroy();
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  const open = (file: string) => {
    const raw = new BetterSqlite3(file);
    raw.pragma('journal_mode = WAL');
    raw.pragma('busy_timeout = 0');
    const db = new Kysely<unknown>({ dialect: new BusyRetrySqliteDialect({ database: new CachingSqliteDatabase(raw) }) });
    dbs.push(db);
    return db;
  };
  const tables = (file: string) => {
    const raw = new BetterSqlite3(file, { readonly: true });
    try {
      return (raw.prepare(`select name from sqlite_master where type = 'table' and name not like 'kysely_%' order by name`).all() as { name: string }[]).map((r) => r.name);
    } finally {
      raw.close();
    }
  };
  const migrate = async (db: Kysely<unknown>, migrations: Record<string, Migration>) =>
    new Migrator({ db, provider: { getMigrations: async () => migrations } }).migrateToLatest();

  const first: Migration = {
    up: async (db) => {
      await db.schema.createTable('meta').addColumn('key', 'text', (c) => c.primaryKey()).execute();
      await db.schema.createTable('principals').addColumn('id', 'text', (c) => c.primaryKey()).execute();
    },
  };
  const second: Migration = { up: async (db) => void (await db.schema.createTable('secrets').addColumn('id', 'text').execute()) };

  it('a start killed between two statements of a migration leaves none of it, and the next start migrates', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-migrate-'));
    dirs.push(dir);
    const live = path.join(dir, 'live.db');
    const crashed = path.join(dir, 'crashed.db');
    const killedAfterMeta: Migration = {
      up: async (db) => {
        await db.schema.createTable('meta').addColumn('key', 'text', (c) => c.primaryKey()).execute();
        // The kill: the files as they are now are all the next start will have.
        fs.copyFileSync(live, crashed);
        if (fs.existsSync(`${live}-wal`)) fs.copyFileSync(`${live}-wal`, `${crashed}-wal`);
        throw new Error('killed');
      },
    };
    const { error } = await migrate(open(live), { '001': killedAfterMeta, '002': second });
    expect(String(error)).toMatch(/killed/);

    expect(tables(crashed)).toEqual([]);
    const restarted = await migrate(open(crashed), { '001': first, '002': second });
    expect(restarted.error).toBeUndefined();
    expect(restarted.results?.map((r) => [r.migrationName, r.status])).toEqual([
      ['001', 'Success'],
      ['002', 'Success'],
    ]);
    expect(tables(crashed)).toEqual(['meta', 'principals', 'secrets']);
  });

  it('a failing later migration takes the earlier ones of the same start with it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-migrate-'));
    dirs.push(dir);
    const file = path.join(dir, 'k.db');
    const broken: Migration = { up: async () => Promise.reject(new Error('bad migration')) };
    const { error } = await migrate(open(file), { '001': first, '002': broken });
    expect(String(error)).toMatch(/bad migration/);
    expect(tables(file)).toEqual([]);
  });
});
