import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { Kysely, Migrator, PostgresDialect, sql, type Migration, type Transaction } from 'kysely';
import BetterSqlite3 from 'better-sqlite3';
import type { Database } from './schema.js';
import type { PgChangeFeed } from './change-feed.js';
import { CHANNEL, encodeChange, newReplicaId } from './change-message.js';
import { BusyRetrySqliteDialect } from './busy-retry.js';
import { CachingSqliteDatabase } from './statement-cache.js';
import { WalCheckpointer } from './wal-checkpointer.js';
import * as m001 from './migrations/001-initial.js';
import * as m003 from './migrations/003-blob.js';
import * as m002 from './migrations/002-keyvault.js';
// Audit trail (src/audit).
import * as m004 from './migrations/004-audit.js';
// Portal sign-in sessions (src/portal).
import * as m005 from './migrations/005-portal-sessions.js';
import * as m006 from './migrations/006-audit-repeats.js';
import * as m007 from './migrations/007-role-assignment-order.js';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;

export interface StoreOptions {
  /** `postgres://…` selects PostgreSQL; otherwise SQLite in `dataDir` (or in memory with `memory`). */
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
  memory?: boolean | undefined;
}

/** A committed change, published so in-memory indexes and caches (here or on other replicas) can refresh. */
export interface Change {
  topic: 'principal' | 'resource' | 'roleAssignment' | 'roleDefinition' | 'denyAssignment' | 'signingKey' | 'credential' | 'dataKey' | 'portalSession' | 'secret' | 'all';
  key: string;
}

const migrations: Record<string, Migration> = { '001-initial': m001, '002-keyvault': m002, '003-blob': m003, '004-audit': m004, '005-portal-sessions': m005, '006-audit-repeats': m006, '007-role-assignment-order': m007 };

export class Store {
  readonly dialect: 'sqlite' | 'postgres';
  readonly location: string;
  private readonly emitter = new EventEmitter();
  private feed: PgChangeFeed | undefined;
  /** SQLite on a file only: checkpoints the WAL from a thread of its own. */
  checkpointer: WalCheckpointer | undefined;
  /** Tags this store's notifications so its own echo is ignored (in-process replicas in tests included). */
  readonly replicaId = newReplicaId();

  private constructor(readonly db: Db, dialect: 'sqlite' | 'postgres', location: string) {
    this.dialect = dialect;
    this.location = location;
    this.emitter.setMaxListeners(100);
  }

  static async open(opts: StoreOptions): Promise<Store> {
    let store: Store;
    if (opts.databaseUrl && /^postgres(ql)?:\/\//.test(opts.databaseUrl)) {
      // The PostgreSQL client is loaded only here: evaluating it costs a SQLite start about 30 ms.
      const { default: pg } = await import('pg');
      // BIGINT comes back as string by default; every bigint here is an epoch-ms or counter well inside 2^53.
      pg.types.setTypeParser(20, (v) => Number(v));
      const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 10 });
      // An idle connection the server drops (restart, failover, pg_terminate_backend) is discarded by the pool and
      // the next query opens a new one; without a listener the pool's 'error' event would crash the process.
      pool.on('error', () => undefined);
      store = new Store(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), 'postgres', redactUrl(opts.databaseUrl));
    } else {
      let file = ':memory:';
      if (!opts.memory) {
        const dir = opts.dataDir ?? '.keyless';
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        file = path.join(dir, 'keyless.db');
      }
      const sqlite = new BetterSqlite3(file);
      sqlite.pragma('journal_mode = WAL');
      // NORMAL in WAL mode survives a killed process (the WAL is in the OS cache); only power loss can drop
      // the last transactions. FULL costs 6× on writes for that case.
      sqlite.pragma('synchronous = NORMAL');
      // Checkpoint every ~64 MiB of WAL instead of SQLite's 4 MiB: blob writes rewrite the same pages, and fewer
      // checkpoints copy fewer versions of them (+14 % on a 1 MiB PUT, bench/NOTES.md). Crash safety is unchanged.
      // In a server WalCheckpointer's thread does the copying and rewinds the log at 16 MiB, so this one, on the
      // event loop, stays a safety valve (see wal-checkpointer.ts).
      sqlite.pragma('wal_autocheckpoint = 16384');
      // No mmap_size: mapping the file made start-up ~40 ms faster on 8k assignments, but every page read stays in
      // the process's RSS (+105 MB at 100k assignments, bench/NOTES.md "Fourth round").
      sqlite.pragma('foreign_keys = ON');
      // No busy timeout: SQLite's would sleep on the event loop. BusyRetrySqliteDialect waits for a lock on a timer.
      sqlite.pragma('busy_timeout = 0');
      if (file !== ':memory:') fs.chmodSync(file, 0o600);
      store = new Store(new Kysely<Database>({ dialect: new BusyRetrySqliteDialect({ database: new CachingSqliteDatabase(sqlite) }) }), 'sqlite', file);
      if (file !== ':memory:') store.checkpointer = new WalCheckpointer(file, { thresholdBytes: 4 * 1024 * 1024, intervalMs: 1000, restartFrames: 4096 });
    }
    await store.migrate();
    if (store.dialect === 'postgres') {
      // Other replicas' writes arrive here; a reconnect means notifications may have been missed: 'all'.
      const { PgChangeFeed } = await import('./change-feed.js');
      store.feed = new PgChangeFeed(store.replicaId, opts.databaseUrl!, (c) => store.emitter.emit('change', c), () => store.emitter.emit('change', { topic: 'all', key: '*' }));
      await store.feed.start();
    }
    return store;
  }

  private async migrate(): Promise<void> {
    const migrator = new Migrator({
      db: this.db,
      provider: { getMigrations: async () => migrations },
    });
    const { error } = await migrator.migrateToLatest();
    if (error) throw error instanceof Error ? error : new Error(String(error));
  }

  /**
   * Runs `fn` in a transaction; the changes it reports are published only after commit, so listeners never
   * see a state that could still roll back.
   */
  async transaction<T>(fn: (tx: Tx, changed: (c: Change) => void) => Promise<T>): Promise<T> {
    const changes: Change[] = [];
    const result = await this.db.transaction().execute(async (tx) => {
      const r = await fn(tx, (c) => changes.push(c));
      // Sent inside the transaction: PostgreSQL delivers a NOTIFY only if the transaction commits.
      if (this.dialect === 'postgres') for (const c of changes) await sql`select pg_notify(${CHANNEL}, ${encodeChange(this.replicaId, c)})`.execute(tx);
      return r;
    });
    for (const c of changes) this.emitter.emit('change', c);
    return result;
  }

  /** Publish a change made outside `transaction()` (single-statement writes, already committed). */
  publish(c: Change): void {
    this.emitter.emit('change', c);
    if (this.dialect === 'postgres') void sql`select pg_notify(${CHANNEL}, ${encodeChange(this.replicaId, c)})`.execute(this.db).catch(() => undefined);
  }

  onChange(listener: (c: Change) => void): () => void {
    this.emitter.on('change', listener);
    return () => this.emitter.off('change', listener);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
    await this.feed?.close();
    await this.checkpointer?.close();
    await this.db.destroy();
  }
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable url)';
  }
}
