import pg from 'pg';
import { CHANNEL } from './change-message.js';
import type { Change } from './store.js';

/**
 * Follows other replicas' commits through PostgreSQL LISTEN/NOTIFY. Writers send pg_notify inside their
 * transaction, so a notification exists exactly when the write committed. A dropped connection is
 * re-established, and `onGap` lets caches drop everything they hold, since notifications sent while
 * disconnected are lost.
 */
export class PgChangeFeed {
  private client: pg.Client | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly replicaId: string,
    private readonly url: string,
    private readonly deliver: (c: Change) => void,
    private readonly onGap: () => void,
  ) {}

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (m) => {
      if (m.channel !== CHANNEL || !m.payload) return;
      try {
        const p = JSON.parse(m.payload) as { o: string; t: Change['topic']; k: string };
        if (p.o !== this.replicaId) this.deliver({ topic: p.t, key: p.k });
      } catch {
        // Not ours: ignore malformed payloads rather than crash the listener.
      }
    });
    client.on('error', () => this.reconnect());
    client.on('end', () => this.reconnect());
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.client = client;
  }

  private reconnect(): void {
    if (this.closed || this.retry) return;
    this.client = undefined;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.start()
        .then(() => this.onGap())
        .catch(() => this.reconnect());
    }, 500);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const c = this.client;
    this.client = undefined;
    if (c) await c.end().catch(() => undefined);
  }
}
