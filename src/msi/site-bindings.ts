import { secretHash } from './identity-secrets.js';

export interface SiteSecretSource {
  /** Every site's key and secret hash (one list query). */
  load(): Promise<{ key: string; hash: string | undefined }[]>;
}

/**
 * Caller binding for the shared App Service listener: the secret a request presents names the site.
 * An in-memory index from secret hash to site, rebuilt after any resource change; a miss reloads at most
 * once a second, so a replica that has not heard of a new site yet still finds it, and a caller guessing
 * secrets cannot turn every request into a database scan.
 */
export class SiteBindings {
  private index: Map<string, string> | undefined;
  private loading: Promise<Map<string, string>> | undefined;
  private lastMissReload = 0;
  private generation = 0;

  constructor(
    private readonly source: SiteSecretSource,
    private readonly now: () => number = Date.now,
  ) {}

  /** Call on every resource change (store.onChange). */
  invalidate(): void {
    this.generation++;
    this.index = undefined;
  }

  async lookup(secret: string | undefined): Promise<string | undefined> {
    if (!secret) return undefined;
    const hash = secretHash(secret);
    const hit = (await this.current()).get(hash);
    if (hit !== undefined) return hit;
    if (this.now() - this.lastMissReload < 1000) return undefined;
    this.lastMissReload = this.now();
    this.invalidate();
    return (await this.current()).get(hash);
  }

  private async current(): Promise<Map<string, string>> {
    if (this.index) return this.index;
    const gen = this.generation;
    this.loading ??= this.source
      .load()
      .then((rows) => {
        const m = new Map<string, string>();
        for (const r of rows) if (r.hash) m.set(r.hash, r.key);
        return m;
      })
      .finally(() => (this.loading = undefined));
    const m = await this.loading;
    // A change that arrived while loading may be missing from `m`: use it for this request, do not keep it.
    if (gen === this.generation) this.index = m;
    return m;
  }
}
