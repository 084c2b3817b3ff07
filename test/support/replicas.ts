import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startTestKeyless } from './keyless.js';
import type { TestDatabase } from './postgres.js';
import type { StartedKeyless } from '../../src/index.js';

/**
 * `n` Keyless replicas on one PostgreSQL database, sharing a master key, started before the suite's tests and
 * stopped (database dropped) after them. The first replica bootstraps the tenant; the others join its store.
 * Call inside the suite's describe; the array fills in beforeAll.
 */
export function useReplicas(db: TestDatabase, n: number): StartedKeyless[] {
  const replicas: StartedKeyless[] = [];
  const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-replicas-'));
  beforeAll(async () => {
    const masterKeyFile = path.join(shared, 'master.key');
    for (let i = 0; i < n; i++) replicas.push(await startTestKeyless({ databaseUrl: db.url, masterKeyFile }));
  }, 120_000);
  afterAll(async () => {
    for (const r of replicas) await r.stop();
    await db.drop();
    fs.rmSync(shared, { recursive: true, force: true });
  });
  return replicas;
}

/** Polls `check` until it holds or `ms` pass (then asks once more): "enforced by the others within 1 s". */
export async function eventually(check: () => Promise<boolean>, ms = 1000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}
