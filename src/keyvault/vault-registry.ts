import type { ArmDocument } from '../resources/index.js';
import type { Store } from '../store/index.js';
import { vaultResources } from './repository.js';
import { vaultInfoFromDocument, type VaultInfo } from './vault-info.js';

const VAULT_SEGMENT = '/providers/microsoft.keyvault/vaults/';

/**
 * Vaults by host name for the data plane, cached so a request costs no query. A vault write in this
 * process invalidates its entry at once (so flipping `enableRbacAuthorization` takes effect on the next
 * request); the short TTL bounds staleness when another replica made the change.
 */
export class VaultRegistry {
  private readonly cache = new Map<string, { info: VaultInfo; at: number }>();

  constructor(
    private readonly store: Store,
    private readonly ttlMs = 5_000,
    // Monotonic, not the server clock: tests and fault injection shift that one, and a cache must not care.
    private readonly now: () => number = () => performance.now(),
  ) {
    store.onChange((c) => {
      if (c.topic !== 'resource') return;
      const i = c.key.indexOf(VAULT_SEGMENT);
      if (i < 0) return;
      const name = c.key.slice(i + VAULT_SEGMENT.length).split('/')[0];
      if (name) this.cache.delete(name);
    });
  }

  /** The vault if its cached entry is fresh; undefined otherwise (then use `get`). */
  peek(name: string): VaultInfo | undefined {
    const hit = this.cache.get(name.toLowerCase());
    return hit && this.now() - hit.at < this.ttlMs ? hit.info : undefined;
  }

  async get(name: string): Promise<VaultInfo | undefined> {
    const key = name.toLowerCase();
    const hit = this.cache.get(key);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.info;
    const row = await vaultResources.byName(this.store.db, key);
    const info = row ? vaultInfoFromDocument(JSON.parse(row.body) as ArmDocument) : undefined;
    // Unknown names are not cached: any host under the suffix reaches here, and memory must stay bounded.
    if (info) this.cache.set(key, { info, at: this.now() });
    else this.cache.delete(key);
    return info;
  }

  invalidate(name: string): void {
    this.cache.delete(name.toLowerCase());
  }
}
