import {
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  type SqliteDialectConfig,
} from 'kysely';

/** How long a statement keeps retrying a lock another connection holds: what `busy_timeout = 5000` allowed. */
export const BUSY_DEADLINE_MS = 5_000;
const MAX_DELAY_MS = 8;

/**
 * SQLite's busy handler waits for another connection's lock by sleeping — and better-sqlite3 is synchronous, so
 * on the event loop that sleep holds every request, not only the one that wants to write. The write lock's other
 * holder is WalCheckpointer's RESTART checkpoint: a few ms usually, but it includes an fsync, and it grows with the
 * store (4 → 29 ms over ten minutes of the soak, bench/NOTES.md "Eighth round"). So the store's connection runs
 * with `busy_timeout = 0` and this dialect retries a statement that met a lock from a timer instead: the request
 * that writes waits, everything else goes on. A statement refused with SQLITE_BUSY did nothing, so running it
 * again is safe; inside a transaction (BEGIN IMMEDIATE holds the write lock) writes cannot meet one.
 */
export class BusyRetrySqliteDialect implements Dialect {
  private readonly plain: SqliteDialect;

  constructor(
    private readonly config: SqliteDialectConfig,
    private readonly deadlineMs = BUSY_DEADLINE_MS,
  ) {
    this.plain = new SqliteDialect(config);
  }

  createDriver(): Driver {
    return new BusyRetryDriver(this.config, this.deadlineMs);
  }

  createQueryCompiler(): QueryCompiler {
    return this.plain.createQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return this.plain.createIntrospector(db);
  }
}

/**
 * Kysely's SQLite adapter declares no transactional DDL, so its Migrator runs each statement of a migration on its
 * own: a process killed between `create table meta` and the migration's row in `kysely_migration` left a store
 * that would not open again ("table meta already exists"). SQLite's DDL is transactional, so the migrations run in
 * one transaction, as on PostgreSQL: a kill leaves all of them or none.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class BusyRetryDriver extends SqliteDriver {
  private readonly wrapped = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(
    config: SqliteDialectConfig,
    private readonly deadlineMs: number,
  ) {
    super(config);
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    const inner = await super.acquireConnection();
    let outer = this.wrapped.get(inner);
    if (!outer) {
      outer = retryingConnection(inner, this.deadlineMs);
      this.wrapped.set(inner, outer);
    }
    return outer;
  }
}

function retryingConnection(inner: DatabaseConnection, deadlineMs: number): DatabaseConnection {
  // Kysely's SQLite connection runs a statement synchronously and throws synchronously, so the common case (no
  // lock met) passes its promise straight through: no extra await, no clock read per query.
  const retry = async <R>(query: CompiledQuery, first: unknown): Promise<QueryResult<R>> => {
    const deadline = performance.now() + deadlineMs;
    let failure = first;
    for (let delay = 1; ; delay = Math.min(MAX_DELAY_MS, delay * 2)) {
      if (performance.now() + delay > deadline) throw failure;
      await new Promise((r) => setTimeout(r, delay));
      try {
        return await inner.executeQuery<R>(query);
      } catch (e) {
        if (!isBusy(e)) throw e;
        failure = e;
      }
    }
  };
  return {
    executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
      try {
        return inner.executeQuery<R>(query);
      } catch (e) {
        if (!isBusy(e)) throw e;
        return retry<R>(query, e);
      }
    },
    streamQuery: <R>(query: CompiledQuery, chunkSize?: number) => inner.streamQuery<R>(query, chunkSize),
  };
}

/** SQLITE_BUSY and its extended codes (…_RECOVERY, …_SNAPSHOT, …_TIMEOUT), as better-sqlite3 names them. */
export function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}
