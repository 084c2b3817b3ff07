import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Checkpoints a SQLite database's write-ahead log from a thread of its own.
 *
 * SQLite's automatic checkpoint runs inside whichever commit crosses the threshold — on the event loop, since
 * better-sqlite3 is synchronous. Copying 64 MiB of log into the database and syncing both files held every request
 * for 100–140 ms, three times a minute under the soak's writes: that was the soak's p99.9 (bench/NOTES.md, "Seventh
 * round"). WAL mode lets a second connection checkpoint while the first one reads and writes, so a PASSIVE
 * checkpoint on a worker thread takes the copy and the sync off the event loop.
 *
 * Under steady writes a PASSIVE checkpoint never quite catches up with the writer, and SQLite rewinds the log only
 * after a checkpoint that did, so on its own the log grows without bound (190 MiB in 40 s at 3.5 MB/s in an
 * experiment; most likely what the fifth round's thread met as a 1.2 s stall, and why it was reverted). So once the log
 * holds `restartFrames`, the thread follows its PASSIVE checkpoint with a RESTART one: that waits for a gap between
 * transactions, copies the few frames written since, and lets the next commit start the log from the top. A commit
 * arriving meanwhile waits for the thread's lock, a few ms. SQLite's automatic checkpoint, at a higher threshold,
 * stays as the safety valve should the thread fall behind. bench/wal-checkpoint.ts, commit latency at 3.5 MB/s:
 * p99.9 ~60 ms with the automatic checkpoint alone, ~4 ms with the thread's PASSIVE runs ahead of it, ~2 ms with the
 * thread's RESTART (no commit over 11 ms).
 *
 * The thread starts only when the log first passes the threshold, so short-lived stores (tests, CLI
 * commands) never pay for it, and a running server pays for it before its first minute is over.
 */
export class WalCheckpointer {
  private worker: Worker | undefined;
  private inFlight = false;
  private closed = false;
  private lastMtimeMs = 0;
  private readonly timer: NodeJS.Timeout;
  /** Checkpoints completed and failed, and the longest PASSIVE and RESTART run (ms), for tests and diagnostics. */
  readonly stats = { runs: 0, failures: 0, restarts: 0, longestPassiveMs: 0, longestRestartMs: 0 };

  constructor(
    private readonly file: string,
    private readonly opts: { thresholdBytes: number; intervalMs: number; restartFrames?: number },
  ) {
    this.timer = setInterval(() => this.tick(), opts.intervalMs);
    this.timer.unref();
  }

  /** Asks for a checkpoint now if the log has grown past the threshold since the last one. */
  tick(): void {
    if (this.inFlight || this.closed) return;
    let stat: fs.Stats;
    try {
      stat = fs.statSync(`${this.file}-wal`);
    } catch {
      return;
    }
    // The log file keeps its size after a checkpoint (SQLite rewrites it from the start); its mtime says whether
    // anything was written since.
    if (stat.size < this.opts.thresholdBytes || stat.mtimeMs === this.lastMtimeMs) return;
    this.lastMtimeMs = stat.mtimeMs;
    this.inFlight = true;
    this.thread().postMessage('checkpoint');
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    // Evaluated source rather than a file: the same code then runs under tsx and from the esbuild bundle.
    // The thread runs a dozen lines and no allocation to speak of: a small heap keeps its RSS at ~6 MB, not ~30.
    const w = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module: createRequire(import.meta.url).resolve('better-sqlite3'), file: this.file, restartFrames: this.opts.restartFrames ?? 0 },
      resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 8 },
    });
    w.unref();
    w.on('message', (m: { ok: boolean; restarted?: boolean; passiveMs?: number; restartMs?: number }) => {
      this.inFlight = false;
      if (m.restarted) this.stats.restarts++;
      this.stats.longestPassiveMs = Math.max(this.stats.longestPassiveMs, m.passiveMs ?? 0);
      this.stats.longestRestartMs = Math.max(this.stats.longestRestartMs, m.restartMs ?? 0);
      if (m.ok) this.stats.runs++;
      else this.stats.failures++;
    });
    // A thread that dies leaves SQLite's own (higher) automatic checkpoint as the safety valve; try again later.
    w.on('error', () => {
      this.stats.failures++;
      this.inFlight = false;
      this.worker = undefined;
    });
    this.worker = w;
    return w;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    const w = this.worker;
    this.worker = undefined;
    if (!w) return;
    // Let a checkpoint under way finish and the connection close cleanly; a stuck one is cut short.
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.postMessage('close');
    const timeout = setTimeout(() => void w.terminate(), 5_000);
    await exited;
    clearTimeout(timeout);
  }
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 1000');
parentPort.on('message', (m) => {
  if (m === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const t0 = performance.now();
    const [passive] = db.pragma('wal_checkpoint(PASSIVE)');
    const t1 = performance.now();
    let restarted = false;
    let restartMs = 0;
    if (workerData.restartFrames > 0 && passive.log >= workerData.restartFrames) {
      const [r] = db.pragma('wal_checkpoint(RESTART)');
      restarted = r.busy === 0;
      restartMs = performance.now() - t1;
    }
    parentPort.postMessage({ ok: true, restarted, passiveMs: t1 - t0, restartMs });
  } catch (e) {
    parentPort.postMessage({ ok: false, error: String(e) });
  }
});
`;
