import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Another connection, on a thread of its own as WalCheckpointer's is, that takes the write lock of the SQLite file
 * and holds it for `ms`. Resolves once the lock is held; `released` settles when the thread has let go and exited.
 */
export async function holdWriteLock(file: string, ms: number): Promise<{ released: Promise<void> }> {
  const holder = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const db = new (require(workerData.module))(workerData.file);
     db.exec('begin immediate');
     parentPort.postMessage('locked');
     Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.ms);
     db.exec('commit');
     db.close();`,
    { eval: true, workerData: { module: createRequire(import.meta.url).resolve('better-sqlite3'), file, ms } },
  );
  await new Promise((r) => holder.once('message', r));
  return { released: new Promise((r) => holder.once('exit', () => r())) };
}
