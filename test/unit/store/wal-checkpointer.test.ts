import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { WalCheckpointer } from '../../../src/store/wal-checkpointer.js';

/** A WAL database whose own connection never checkpoints unless told to, so what the thread did is all there is. */
function walDatabase(autocheckpointPages = 0): { file: string; db: BetterSqlite3.Database; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-wal-'));
  const file = path.join(dir, 'test.db');
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`wal_autocheckpoint = ${autocheckpointPages}`);
  db.exec('create table t (id integer primary key, v blob not null)');
  return { file, db, dir };
}

const write = (db: BetterSqlite3.Database, rows: number, from = 0) => {
  const ins = db.prepare('insert into t (id, v) values (?, ?)');
  db.transaction(() => {
    for (let i = from; i < from + rows; i++) ins.run(i, Buffer.alloc(4096, i % 251));
  })();
};

/** Frames in the log and frames already copied into the database, as a no-op PASSIVE checkpoint reports them. */
const walState = (db: BetterSqlite3.Database) => db.pragma('wal_checkpoint(PASSIVE)', { simple: false }) as { log: number; checkpointed: number }[];

/**
 * 10 rounds of 40 transactions of 8 KiB (3.2 MiB in all), each round followed by one checkpoint of the thread,
 * awaited so that the test does not depend on how the threads are scheduled; returns the largest the log grew to.
 */
async function writeInRounds(db: BetterSqlite3.Database, file: string, cp: WalCheckpointer): Promise<number> {
  let largest = 0;
  for (let round = 0; round < 10; round++) {
    // Distinct mtimes need a moment on coarse-grained file systems (the thread checks the log's mtime).
    await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < 40; i++) write(db, 2, (round * 40 + i) * 2);
    largest = Math.max(largest, fs.statSync(`${file}-wal`).size);
    const runs = cp.stats.runs;
    cp.tick();
    await until(() => cp.stats.runs > runs);
  }
  return largest;
}

/** Every row of `writeInRounds` is there, whole, and the database is sound. */
function expectIntact(db: BetterSqlite3.Database): void {
  expect(db.prepare('select count(*) as n, sum(length(v)) as bytes from t').get()).toEqual({ n: 800, bytes: 800 * 4096 });
  expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('WalCheckpointer (WAL checkpoints off the event loop)', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('copies the log into the database from its own thread once the log passes the threshold', async () => {
    const { file, db, dir } = walDatabase();
    const cp = new WalCheckpointer(file, { thresholdBytes: 256 * 1024, intervalMs: 60_000 });
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }), () => { db.close(); }, () => cp.close());

    write(db, 10); // ~40 KiB: below the threshold, so no thread and no checkpoint
    cp.tick();
    await new Promise((r) => setTimeout(r, 200));
    expect(cp.stats.runs).toBe(0);
    const before = fs.statSync(file).size;

    write(db, 200, 10); // ~800 KiB more
    cp.tick();
    await until(() => cp.stats.runs === 1);
    expect(cp.stats.failures).toBe(0);
    // The pages reached the database file, and every frame of the log is backfilled.
    expect(fs.statSync(file).size).toBeGreaterThan(before + 700 * 1024);
    const [state] = walState(db);
    expect(state!.checkpointed).toBe(state!.log);
    expect(db.prepare('select count(*) as n from t').get()).toEqual({ n: 210 });
  });

  it('does not run again while nothing new was written, and runs again after a write', async () => {
    const { file, db, dir } = walDatabase();
    const cp = new WalCheckpointer(file, { thresholdBytes: 64 * 1024, intervalMs: 60_000 });
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }), () => { db.close(); }, () => cp.close());
    write(db, 100);
    cp.tick();
    await until(() => cp.stats.runs === 1);
    cp.tick();
    await new Promise((r) => setTimeout(r, 200));
    expect(cp.stats.runs).toBe(1);
    // Distinct mtimes need a moment on coarse-grained file systems.
    await new Promise((r) => setTimeout(r, 20));
    write(db, 100, 100);
    cp.tick();
    await until(() => cp.stats.runs === 2);
  });

  it('keeps the log bounded under steady writes, alongside the connection\'s own automatic checkpoint', async () => {
    // PASSIVE runs only, next to the connection's own checkpoint (here every 64 pages, 12 times over): the two
    // share the log without a failure, and the connection's checkpoint still rewinds it.
    const { file, db, dir } = walDatabase(64);
    const cp = new WalCheckpointer(file, { thresholdBytes: 16 * 1024, intervalMs: 60_000 });
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }), () => { db.close(); }, () => cp.close());
    const largest = await writeInRounds(db, file, cp);
    expect(cp.stats).toMatchObject({ runs: 10, failures: 0, restarts: 0, longestRestartMs: 0 });
    expect(cp.stats.longestPassiveMs).toBeGreaterThan(0);
    // 64 pages of 4 KiB plus the transaction that crossed it, and slack for a rewind that had to wait a commit.
    expect(largest).toBeLessThan(1024 * 1024);
    expectIntact(db);
  });

  it('rewinds the log itself once it holds restartFrames, with the connection\'s own checkpoint switched off', async () => {
    // The store's arrangement: the thread's RESTART checkpoint lets the next commit start the log from the top,
    // so the connection never has to checkpoint on the event loop. Without it (restartFrames 0) the same writes
    // leave a 3.2 MiB log.
    const { file, db, dir } = walDatabase(0);
    const cp = new WalCheckpointer(file, { thresholdBytes: 16 * 1024, intervalMs: 60_000, restartFrames: 64 });
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }), () => { db.close(); }, () => cp.close());
    const largest = await writeInRounds(db, file, cp);
    // Every round wrote ~80 frames, past restartFrames, and nothing wrote during the thread's RESTART.
    expect(cp.stats).toMatchObject({ runs: 10, failures: 0, restarts: 10 });
    expect(cp.stats.longestRestartMs).toBeGreaterThan(0);
    expect(largest).toBeLessThan(1024 * 1024);
    expectIntact(db);
  });

  it('closes its thread and connection: the database can be deleted and reopened cleanly', async () => {
    const { file, db, dir } = walDatabase();
    const cp = new WalCheckpointer(file, { thresholdBytes: 1, intervalMs: 10 });
    write(db, 50);
    await until(() => cp.stats.runs >= 1);
    await cp.close();
    db.close();
    const again = new BetterSqlite3(file);
    expect(again.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(again.prepare('select count(*) as n from t').get()).toEqual({ n: 50 });
    again.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
