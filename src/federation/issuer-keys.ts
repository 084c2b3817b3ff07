import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { issuerMetadataUnavailable } from './errors.js';
import { fetchJson, type FetchJsonOptions } from './https-json.js';

/** A verification key an issuer publishes. */
export interface IssuerKey {
  kid: string | undefined;
  x5t: string | undefined;
  key: KeyObject;
}

/** Where the keys of one token issuer come from. */
export interface IssuerKeySource {
  /** The issuer's keys; `kid` is the one the token names, so a source may refresh when it does not know it. */
  keysFor(issuer: string, kid: string | undefined): Promise<IssuerKey[]>;
}

/** Entra reads only the first 100 keys of an issuer's JWKS (workload-identity-federation docs). */
export const MAX_ISSUER_KEYS = 100;

export interface ExternalIssuerKeysOptions {
  clock: Clock;
  /** How long fetched metadata is trusted. Default 10 min. */
  ttlMs?: number;
  /** A token naming an unknown kid triggers a refetch at most this often per issuer (key rotation). Default 60 s. */
  unknownKidRefreshMs?: number;
  /** A failed fetch is not retried for this long, so a dead issuer does not cost every request a timeout. Default 30 s. */
  failureBackoffMs?: number;
  http?: Partial<FetchJsonOptions>;
  /** Replaceable for tests. */
  fetch?: (url: string, opts: FetchJsonOptions) => Promise<unknown>;
  /** Issuers remembered at once. Default 1000. */
  maxIssuers?: number;
}

interface Entry {
  keys: IssuerKey[];
  fetchedAt: number;
  /** No fetch before this time (after a failure). */
  nextAttemptAt: number;
  failure?: string;
}

/**
 * Keys of external OIDC issuers (AKS, GitHub Actions, another Keyless …) found by OIDC discovery:
 * `{issuer}/.well-known/openid-configuration` → `jwks_uri`, both over verified HTTPS.
 */
export class ExternalIssuerKeys implements IssuerKeySource {
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Entry>>();
  private readonly ttlMs: number;
  private readonly unknownKidRefreshMs: number;
  private readonly failureBackoffMs: number;
  private readonly http: FetchJsonOptions;
  private readonly fetch: (url: string, opts: FetchJsonOptions) => Promise<unknown>;
  private readonly maxIssuers: number;

  constructor(private readonly opts: ExternalIssuerKeysOptions) {
    this.ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.unknownKidRefreshMs = opts.unknownKidRefreshMs ?? 60_000;
    this.failureBackoffMs = opts.failureBackoffMs ?? 30_000;
    this.http = { timeoutMs: 5_000, maxBytes: 512 * 1024, ...opts.http };
    this.fetch = opts.fetch ?? fetchJson;
    this.maxIssuers = opts.maxIssuers ?? 1000;
  }

  async keysFor(issuer: string, kid: string | undefined): Promise<IssuerKey[]> {
    const now = this.opts.clock.now();
    let entry = this.cache.get(issuer);
    if (!entry || now >= entry.nextAttemptAt) {
      const stale = !entry || entry.failure !== undefined || now - entry.fetchedAt >= this.ttlMs;
      const unknownKid = kid !== undefined && entry !== undefined && !entry.keys.some((k) => k.kid === kid || k.x5t === kid);
      if (stale || (unknownKid && now - entry!.fetchedAt >= this.unknownKidRefreshMs)) entry = await this.refresh(issuer);
    }
    if (entry!.failure) throw issuerMetadataUnavailable(issuer, entry!.failure);
    return entry!.keys;
  }

  /** One fetch per issuer at a time: a burst of token requests waits on the same discovery. */
  private refresh(issuer: string): Promise<Entry> {
    let p = this.inflight.get(issuer);
    if (!p) {
      p = this.load(issuer).finally(() => this.inflight.delete(issuer));
      this.inflight.set(issuer, p);
    }
    return p;
  }

  private async load(issuer: string): Promise<Entry> {
    const now = this.opts.clock.now();
    let entry: Entry;
    try {
      entry = { keys: await this.discover(issuer), fetchedAt: now, nextAttemptAt: 0 };
    } catch (e) {
      const previous = this.cache.get(issuer);
      const nextAttemptAt = now + this.failureBackoffMs;
      // A key set that worked stays usable through a short outage of the issuer, until its TTL runs out twice.
      entry =
        previous && !previous.failure && now - previous.fetchedAt < 2 * this.ttlMs
          ? { ...previous, nextAttemptAt }
          : { keys: [], fetchedAt: now, nextAttemptAt, failure: (e as Error).message };
    }
    this.cache.delete(issuer);
    if (this.cache.size >= this.maxIssuers) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(issuer, entry);
    return entry;
  }

  private async discover(issuer: string): Promise<IssuerKey[]> {
    const configUrl = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const config = await this.fetch(configUrl, this.http);
    if (!isObject(config)) throw new Error(`${configUrl}: not a JSON object`);
    // OIDC Discovery §4.3: the document must name the issuer it was fetched for (a trailing slash aside).
    if (typeof config['issuer'] !== 'string' || trimSlash(config['issuer']) !== trimSlash(issuer)) {
      throw new Error(`${configUrl}: issuer ${JSON.stringify(config['issuer'])} does not match ${issuer}`);
    }
    const jwksUri = config['jwks_uri'];
    if (typeof jwksUri !== 'string' || !jwksUri.startsWith('https://')) throw new Error(`${configUrl}: jwks_uri missing or not https`);
    const jwks = await this.fetch(jwksUri, this.http);
    if (!isObject(jwks) || !Array.isArray(jwks['keys'])) throw new Error(`${jwksUri}: no keys array`);
    return parseJwks(jwks['keys']);
  }
}

/** Public signing keys out of a JWKS `keys` array: the first 100 entries, unusable ones skipped. */
export function parseJwks(keys: unknown[]): IssuerKey[] {
  const out: IssuerKey[] = [];
  for (const jwk of keys.slice(0, MAX_ISSUER_KEYS)) {
    if (!isObject(jwk) || jwk['use'] === 'enc') continue;
    const kty = jwk['kty'];
    // Only the public members reach createPublicKey, so a JWKS that leaks private parts is still read as public.
    const pub =
      kty === 'RSA' && typeof jwk['n'] === 'string' && typeof jwk['e'] === 'string'
        ? { kty, n: jwk['n'], e: jwk['e'] }
        : kty === 'EC' && typeof jwk['crv'] === 'string' && typeof jwk['x'] === 'string' && typeof jwk['y'] === 'string'
          ? { kty, crv: jwk['crv'], x: jwk['x'], y: jwk['y'] }
          : undefined;
    if (!pub) continue;
    try {
      out.push({
        kid: typeof jwk['kid'] === 'string' ? jwk['kid'] : undefined,
        x5t: typeof jwk['x5t'] === 'string' ? jwk['x5t'] : undefined,
        key: createPublicKey({ key: pub, format: 'jwk' }),
      });
    } catch {
      // An unparsable key is skipped, as a JOSE library would; the others may still verify.
    }
  }
  return out;
}

/** Keys for issuers Keyless answers for itself (its workload issuer), looked up without any HTTP. */
export class IssuerKeyResolver implements IssuerKeySource {
  constructor(
    private readonly local: ReadonlyMap<string, IssuerKeySource>,
    private readonly external: IssuerKeySource,
  ) {}

  keysFor(issuer: string, kid: string | undefined): Promise<IssuerKey[]> {
    return (this.local.get(issuer) ?? this.external).keysFor(issuer, kid);
  }
}

const trimSlash = (s: string): string => s.replace(/\/+$/, '');

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
