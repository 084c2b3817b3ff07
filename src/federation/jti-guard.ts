import { createHash } from 'node:crypto';
import type { Clock } from '../core/clock.js';

/**
 * `same-assertion`: a jti may come back only inside the very assertion that first carried it. msal-node caches
 * its certificate assertion and re-sends it (same jti) for every token request during its 10 minutes, and Entra
 * accepts that, so refusing any repeat would break ClientCertificateCredential on its second scope.
 * `strict`: every jti is single-use (RFC 7523 §3 replay protection), for deployments that want it.
 */
export type JtiReplayMode = 'same-assertion' | 'strict';

interface Seen {
  assertionHash: string;
  /** epoch ms after which the assertion is expired even with skew, so the jti can be forgotten */
  forgetAt: number;
}

/**
 * Remembers the jtis of accepted certificate assertions until they expire. Entries are only added after the
 * signature verified, so the map grows with real clients' traffic, not with what anyone posts.
 */
export class JtiReplayGuard {
  private readonly seen = new Map<string, Seen>();
  private readonly maxEntries: number;
  private lastSweep = 0;

  constructor(
    private readonly clock: Clock,
    readonly mode: JtiReplayMode = 'same-assertion',
    opts: { maxEntries?: number } = {},
  ) {
    this.maxEntries = opts.maxEntries ?? 100_000;
  }

  /** Records the jti and says whether the assertion may be used (false: a replay under the current mode). */
  admit(clientId: string, jti: string, assertion: string, expSec: number, skewSec: number): boolean {
    const now = this.clock.now();
    this.sweep(now);
    const key = `${clientId.toLowerCase()}\n${jti}`;
    const hash = createHash('sha256').update(assertion).digest('base64url');
    const prior = this.seen.get(key);
    if (prior && prior.forgetAt > now) return this.mode === 'same-assertion' && prior.assertionHash === hash;
    if (this.seen.size >= this.maxEntries) {
      // Oldest first (Map keeps insertion order): losing the oldest entries only reopens nearly expired jtis.
      const oldest = this.seen.keys().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
    this.seen.set(key, { assertionHash: hash, forgetAt: (expSec + skewSec) * 1000 });
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000 && this.seen.size < this.maxEntries) return;
    this.lastSweep = now;
    for (const [k, v] of this.seen) if (v.forgetAt <= now) this.seen.delete(k);
  }
}
