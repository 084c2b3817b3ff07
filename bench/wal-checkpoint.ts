/**
 * Commit latency under a steady write load: SQLite's automatic checkpoint alone (on the committing thread, as
 * better-sqlite3 runs it on the event loop) against the store's arrangement, WalCheckpointer's thread running ahead
 * of it. Not part of `npm run bench`; its figures are in bench/NOTES.md ("Seventh round").
 *
 *   npx tsx bench/wal-checkpoint.ts [--seconds 60] [--runs 3]
 *
 * The load imitates the soak's write side at ~3.5 MB/s of WAL: every 10 ms one transaction replaces a 4 KiB blob
 * row and inserts five ~1 KB audit rows into a table with four indexes. The two arrangements alternate, each run
 * on a fresh database, and every commit is timed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { WalCheckpointer } from '../src/store/wal-checkpointer.js';
import { fmt, median, numArg } from './lib.js';
import { quantiles } from './open-loop.js';

type Arrangement = 'automatic only' | 'with thread' | 'thread, restart';

async function run(arrangement: Arrangement, seconds: number): Promise<{ p50: number; p99: number; p999: number; max: number; over20: number; commits: number; checkpoints: number; restarts: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-walbench-'));
  const file = path.join(dir, 'bench.db');
  const db = new BetterSqlite3(file);
  // The store's pragmas (src/store/store.ts).
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('wal_autocheckpoint = 16384');
  db.exec(`create table blob (k text primary key, data blob);
    create table audit (seq integer primary key, at integer, principal text, scope text, action text, detail text);
    create index audit_at on audit (at); create index audit_principal on audit (principal);
    create index audit_scope on audit (scope); create index audit_action on audit (action);`);
  const cp =
    arrangement === 'with thread'
      ? new WalCheckpointer(file, { thresholdBytes: 4 * 1024 * 1024, intervalMs: 1000 })
      : arrangement === 'thread, restart'
        ? new WalCheckpointer(file, { thresholdBytes: 4 * 1024 * 1024, intervalMs: 1000, restartFrames: 4096 })
        : undefined;
  const putBlob = db.prepare('insert or replace into blob (k, data) values (?, ?)');
  const audit = db.prepare('insert into audit (at, principal, scope, action, detail) values (?, ?, ?, ?, ?)');
  const data = Buffer.alloc(4096, 7);
  const detail = 'x'.repeat(900);
  const commit = db.transaction((n: number) => {
    putBlob.run(`b${n % 2000}`, data);
    for (let i = 0; i < 5; i++) audit.run(Date.now(), `p${n % 97}`, `/subscriptions/s/resourceGroups/rg${n % 13}/providers/x/${n}`, `action${i % 7}`, detail);
  });
  const took: number[] = [];
  const end = Date.now() + seconds * 1000;
  for (let n = 0; Date.now() < end; n++) {
    const t = performance.now();
    commit(n);
    took.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 10));
  }
  const checkpoints = cp?.stats.runs ?? 0;
  const restarts = cp?.stats.restarts ?? 0;
  await cp?.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const q = quantiles(Float64Array.from(took).sort());
  return { ...q, over20: took.filter((t) => t > 20).length, commits: took.length, checkpoints, restarts };
}

const seconds = numArg('--seconds', 60);
const runs = numArg('--runs', 3);
const results: Record<Arrangement, Awaited<ReturnType<typeof run>>[]> = { 'automatic only': [], 'with thread': [], 'thread, restart': [] };
for (let i = 0; i < runs; i++) {
  // ABBA order, so a drift in the machine's speed falls on both alike.
  const all = Object.keys(results) as Arrangement[];
  const order = i % 2 === 0 ? all : [...all].reverse();
  for (const a of order) {
    const r = await run(a, seconds);
    results[a].push(r);
    console.log(`${a}: ${r.commits} commits, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms, p99.9 ${fmt(r.p999, 1)} ms, max ${fmt(r.max, 1)} ms, ${r.over20} over 20 ms${a === 'automatic only' ? '' : `, ${r.checkpoints} thread checkpoints, ${r.restarts} restarts`}`);
  }
}
console.log(`\nmedians of ${runs} runs of ${seconds} s (commit latency, ms):`);
console.log('| arrangement | p50 | p99 | p99.9 | max | commits over 20 ms |');
console.log('|---|---|---|---|---|---|');
for (const a of Object.keys(results) as Arrangement[]) {
  const rs = results[a];
  const m = (f: (r: (typeof rs)[number]) => number, digits = 1) => fmt(median(rs.map(f)), digits);
  console.log(`| ${a} | ${m((r) => r.p50, 2)} | ${m((r) => r.p99, 2)} | ${m((r) => r.p999)} | ${m((r) => r.max)} | ${m((r) => r.over20, 0)} |`);
}
