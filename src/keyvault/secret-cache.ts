import type { Change, Store } from '../store/index.js';
import type { SecretVersionView } from './secrets.js';

export interface OpenSecret {
  view: SecretVersionView;
  value: string;
}

/** The change every secret write publishes (after commit; other replicas get it through the change feed). */
export const secretChange = (vaultKey: string, nameKey: string): Change => ({ topic: 'secret', key: `${vaultKey}/${nameKey}` });
/** For writes that touch every secret of a vault (a vault purge). */
export const vaultSecretsChange = (vaultKey: string): Change => ({ topic: 'secret', key: `${vaultKey}/*` });

const DEFAULT_ENTRIES = 1_000;
/** Values are at most 25 KB; this caps the plaintext held far below entries × 25 KB. */
const DEFAULT_VALUE_CHARS = 4 * 1024 * 1024;

/**
 * The latest version of recently read secrets, opened, so a get-secret costs neither a query nor an
 * AES-GCM open. Holding plaintext is acceptable here because the process already holds the data key that
 * opens every sealed value (and the token signing keys): memory access gives all of it either way. The
 * values never leave memory, and the cache is bounded by entries and by total value size.
 *
 * Staleness: every write publishes `secretChange` after it commits; this replica drops the entry at once and
 * other replicas when the PostgreSQL change feed delivers it (a feed reconnect delivers `all`, which drops
 * everything). A read that was under way while an invalidation arrived does not fill the cache (the
 * generation check), so an entry is never older than the last notification this replica received.
 */
export class LatestSecretCache {
  private readonly entries = new Map<string, OpenSecret>();
  private chars = 0;
  private gen = 0;

  constructor(
    store: Store,
    private readonly maxEntries = DEFAULT_ENTRIES,
    private readonly maxValueChars = DEFAULT_VALUE_CHARS,
  ) {
    store.onChange((c) => {
      if (c.topic === 'secret') this.invalidate(c.key);
      // A vault's resource changing (deleted, recreated under the same name) or a feed gap: start over.
      else if (c.topic === 'all' || (c.topic === 'resource' && c.key.includes('/providers/microsoft.keyvault/vaults/'))) this.clear();
    });
  }

  get(vaultKey: string, nameKey: string): OpenSecret | undefined {
    const key = `${vaultKey}/${nameKey}`;
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    // Most recently used last, so eviction takes the coldest.
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit;
  }

  /** Taken before reading the store; `set` with a stale generation is ignored. */
  generation(): number {
    return this.gen;
  }

  set(generation: number, vaultKey: string, nameKey: string, entry: OpenSecret): void {
    if (generation !== this.gen || entry.value.length > this.maxValueChars) return;
    const key = `${vaultKey}/${nameKey}`;
    this.remove(key);
    this.entries.set(key, entry);
    this.chars += entry.value.length;
    while (this.entries.size > this.maxEntries || this.chars > this.maxValueChars) this.remove(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }

  private invalidate(key: string): void {
    this.gen++;
    if (!key.endsWith('/*')) {
      this.remove(key);
      return;
    }
    const prefix = key.slice(0, -1);
    for (const k of [...this.entries.keys()]) if (k.startsWith(prefix)) this.remove(k);
  }

  private clear(): void {
    this.gen++;
    this.entries.clear();
    this.chars = 0;
  }

  private remove(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.chars -= e.value.length;
  }
}
