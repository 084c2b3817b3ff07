import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** Enough for every distinct query shape Keyless issues (IN-lists of varying length add a few more). */
const DEFAULT_CAPACITY = 500;

/**
 * The better-sqlite3 database as Kysely's SqliteDialect sees it, with `prepare` answering a cached statement
 * per SQL text. Kysely's driver prepares anew on every query, and compiling the SQL was about a tenth of the
 * CPU of a Key Vault or ARM read (bench/NOTES.md). Reuse is safe because the driver runs a statement to
 * completion (`all`/`run`) before the next query starts; only `iterate` (Kysely's `stream()`) keeps one open,
 * so a statement still busy gets a fresh one rather than the shared one. Least-recently used falls out first,
 * so queries built with a variable number of placeholders cannot grow the cache without bound.
 */
export class CachingSqliteDatabase implements SqliteDatabase {
  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly capacity = DEFAULT_CAPACITY,
  ) {}

  prepare(text: string): SqliteStatement {
    // Kysely opens every transaction with a deferred BEGIN. A deferred transaction that has read and then writes
    // must upgrade its lock, and SQLite refuses that at once with SQLITE_BUSY, without the busy timeout, whenever
    // another connection holds the write lock: WalCheckpointer's RESTART checkpoint does, for a few ms. Taking
    // the write lock at BEGIN meets it where waiting is safe (BusyRetrySqliteDialect retries the BEGIN on a timer
    // until the checkpoint is done). This connection is the store's only writer and Kysely runs one transaction at
    // a time on it, so nothing else is held up.
    const sql = text === 'begin' ? 'begin immediate' : text;
    const hit = this.statements.get(sql);
    if (hit) {
      if (hit.busy) return this.db.prepare(sql);
      // Re-inserting moves it to the end of the Map's order: the eviction below takes the oldest.
      this.statements.delete(sql);
      this.statements.set(sql, hit);
      return hit;
    }
    const stmt = this.db.prepare(sql);
    this.statements.set(sql, stmt);
    if (this.statements.size > this.capacity) this.statements.delete(this.statements.keys().next().value!);
    return stmt;
  }

  /** How many statements are cached (for tests). */
  get size(): number {
    return this.statements.size;
  }

  close(): void {
    this.statements.clear();
    this.db.close();
  }
}
