import { randomUUID } from 'node:crypto';
import type { Change } from './store.js';

/**
 * What replicas tell each other about a commit, apart from the PostgreSQL client that carries it
 * (change-feed.ts), which a SQLite start never loads.
 */
export const CHANNEL = 'keyless_changes';

/** A store's identity on the feed, so a replica ignores the echo of its own notifications. */
export const newReplicaId = (): string => randomUUID();

export const encodeChange = (replicaId: string, c: Change): string => JSON.stringify({ o: replicaId, t: c.topic, k: c.key });
