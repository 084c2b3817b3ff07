import crypto, { createHash } from 'node:crypto';
import { jwtVerify } from 'jose';
import type { Clock } from '../core/clock.js';
import { boundedMemo } from '../core/memo.js';
import { isKeylessError } from '../core/errors.js';
import { b64urlDecode, isB64url } from './base64url.js';
import {
  expiredMessage,
  tokenError,
  wrongAudienceMessage,
  wrongIssuerMessage,
  type TokenFailureReason,
} from './errors.js';
import type { LoadedKey, SigningKeys } from './keys.js';
import { Lru } from './lru.js';

export interface VerifyPolicy {
  /** Accepted `aud` values; compared ignoring trailing slashes and scheme/host case. */
  audiences: readonly string[];
  /** Accepted `iss` values, compared exactly (Entra issuers are exact strings). */
  issuers: readonly string[];
  /** When set, `tid` must equal it (GUIDs compared case-insensitively). */
  tenantId?: string;
  /** Default 300, Azure's usual tolerance. */
  clockSkewSec?: number;
  /** Authority named in the wrong-issuer message; derived from the first issuer when absent. */
  authority?: string;
}

export type TokenClaims = Record<string, unknown> & {
  aud: string;
  iss: string;
  exp: number;
  nbf?: number;
  iat?: number;
  oid?: string;
  tid?: string;
  appid?: string;
  azp?: string;
};

export interface VerifiedToken {
  claims: Readonly<TokenClaims>;
  kid: string;
  /** The signature result came from the cache. */
  cached: boolean;
}

export interface TokenVerifierOptions {
  /** Verified-signature cache entries; 0 disables the cache. Default 10 000. */
  cacheSize?: number;
}

export interface VerifierStats {
  signatureChecks: number;
  cacheHits: number;
  cacheSize: number;
}

/** Far above any token Keyless issues (~1.5 KB); bounds the work an unauthenticated caller can cause. */
export const MAX_TOKEN_CHARS = 16 * 1024;
const DEFAULT_SKEW_SEC = 300;
/** Parameters that would make the token choose its own key or processing rules. Keyless never emits them. */
const FORBIDDEN_HEADER_PARAMS = ['crit', 'jku', 'x5u', 'jwk', 'x5c'] as const;

interface CacheEntry {
  claims: Readonly<TokenClaims>;
  kid: string;
}

/**
 * Verifies Keyless-issued access tokens against the local key set (no remote JWKS fetch). Signatures are checked
 * by jose; a successful check is cached by the token's SHA-256 so data planes pay for RSA once per token, while
 * the time, issuer, audience and tenant policy is re-evaluated on every call (policies differ per surface and
 * time moves).
 */
export class TokenVerifier {
  private readonly cache: Lru<string, CacheEntry>;
  private signatureChecks = 0;
  private cacheHits = 0;

  constructor(
    private readonly keys: SigningKeys,
    private readonly clock: Clock,
    opts: TokenVerifierOptions = {},
  ) {
    this.cache = new Lru(opts.cacheSize ?? 10_000);
  }

  async verify(token: string, policy: VerifyPolicy): Promise<VerifiedToken> {
    if (typeof token !== 'string' || token.length === 0) throw tokenError('malformed', 'empty or non-string token');
    if (token.length > MAX_TOKEN_CHARS) throw tokenError('size', `token is ${token.length} chars (max ${MAX_TOKEN_CHARS})`);
    const nowMs = this.clock.now();
    const now = Math.floor(nowMs / 1000);
    const hash = tokenKey(token);

    const hit = this.cache.get(hash);
    // A hit whose key is no longer published falls through, so the cold path reports it as `kid`.
    if (hit && this.keys.byKid(hit.kid)) {
      this.cacheHits++;
      try {
        checkPolicy(hit.claims, policy, now);
      } catch (e) {
        if (isKeylessError(e) && e.extra.reason === 'exp') this.cache.delete(hash);
        throw e;
      }
      return { claims: hit.claims, kid: hit.kid, cached: true };
    }
    if (hit) this.cache.delete(hash);

    const key = this.preflight(token);
    this.signatureChecks++;
    let payload: Record<string, unknown>;
    try {
      const result = await jwtVerify(token, (header) => this.resolve(header.kid).verifyKey, {
        algorithms: ['RS256'],
        currentDate: new Date(nowMs),
        clockTolerance: policy.clockSkewSec ?? DEFAULT_SKEW_SEC,
      });
      payload = result.payload;
    } catch (e) {
      throw mapJoseError(e, token, now, key.kid);
    }
    const claims = deepFreeze(checkShape(payload));
    this.cache.set(hash, { claims, kid: key.kid });
    checkPolicy(claims, policy, now);
    return { claims, kid: key.kid, cached: false };
  }

  /**
   * `verify` for a token whose signature was already checked, without a promise: the same key and policy checks
   * as a cache hit there, undefined for anything else (not cached, key retired, any policy failure), for which
   * the caller takes `verify` and gets its precise error.
   */
  verifyIfCached(token: string, policy: VerifyPolicy): VerifiedToken | undefined {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_CHARS) return undefined;
    const hit = this.cache.get(tokenKey(token));
    if (!hit || !this.keys.byKid(hit.kid)) return undefined;
    try {
      checkPolicy(hit.claims, policy, Math.floor(this.clock.now() / 1000));
    } catch {
      return undefined;
    }
    this.cacheHits++;
    return { claims: hit.claims, kid: hit.kid, cached: true };
  }

  /** Drops cached verifications whose claims match, e.g. `c => c.oid === deletedPrincipalId`. */
  invalidateWhere(predicate: (claims: Readonly<TokenClaims>) => boolean): number {
    return this.cache.deleteWhere((entry) => predicate(entry.claims));
  }

  clear(): void {
    this.cache.clear();
  }

  stats(): VerifierStats {
    return { signatureChecks: this.signatureChecks, cacheHits: this.cacheHits, cacheSize: this.cache.size };
  }

  /** Header checks jose either does not do or would report less precisely; runs before any signature work. */
  private preflight(token: string): LoadedKey {
    const parts = token.split('.');
    if (parts.length !== 3) throw tokenError('malformed', `${parts.length} segments`);
    const [h, p, s] = parts as [string, string, string];
    const headerBytes = b64urlDecode(h);
    if (!headerBytes) throw tokenError('malformed', 'header is not base64url');
    let header: unknown;
    try {
      header = JSON.parse(headerBytes.toString('utf8'));
    } catch {
      throw tokenError('malformed', 'header is not JSON');
    }
    if (!isObject(header)) throw tokenError('malformed', 'header is not a JSON object');
    if (header.alg !== 'RS256') throw tokenError('alg', `alg ${JSON.stringify(header.alg)} not allowed`);
    for (const param of FORBIDDEN_HEADER_PARAMS) {
      if (param in header) throw tokenError('header', `header parameter '${param}' not accepted`);
    }
    if (typeof header.kid !== 'string' || header.kid === '') throw tokenError('kid', 'no kid in header');
    if (header.x5t !== undefined && header.x5t !== header.kid) throw tokenError('kid', 'x5t differs from kid');
    const key = this.resolve(header.kid);
    // Checked after alg so that `alg: none` with its empty signature is reported as `alg`.
    if (!isB64url(p) || !isB64url(s)) throw tokenError('malformed', 'payload or signature is not base64url');
    return key;
  }

  private resolve(kid: string | undefined): LoadedKey {
    const key = kid === undefined ? undefined : this.keys.byKid(kid);
    if (!key) throw tokenError('kid', `unknown kid ${JSON.stringify(kid)}`);
    return key;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}

/** jose checked types of exp/nbf/iat when present; Keyless tokens always carry exp, iss and a single aud. */
function checkShape(payload: Record<string, unknown>): TokenClaims {
  if (typeof payload.exp !== 'number') throw tokenError('malformed', 'no exp claim');
  if (typeof payload.iss !== 'string') throw tokenError('malformed', 'no iss claim');
  if (typeof payload.aud !== 'string') throw tokenError('aud', 'aud is not a single string');
  return payload as TokenClaims;
}

/** The verified-signature cache key: the token's SHA-256 (one-shot `crypto.hash` where Node has it). */
const tokenKey: (token: string) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (token) => (crypto as unknown as { hash(alg: string, data: string, enc: string): string }).hash('sha256', token, 'base64')
    : (token) => createHash('sha256').update(token).digest('base64');

function checkPolicy(claims: Readonly<TokenClaims>, policy: VerifyPolicy, now: number): void {
  const skew = policy.clockSkewSec ?? DEFAULT_SKEW_SEC;
  // Same boundaries as jose: expired when exp <= now - skew, premature when nbf > now + skew.
  if (claims.exp <= now - skew) {
    throw tokenError('exp', `exp ${claims.exp} <= now ${now} - skew ${skew}`, expiredMessage(claims.exp, now));
  }
  if (typeof claims.nbf === 'number' && claims.nbf > now + skew) {
    throw tokenError('nbf', `nbf ${claims.nbf} > now ${now} + skew ${skew}`, 'The access token is not yet valid.');
  }
  if (!policy.issuers.includes(claims.iss)) {
    const expected = policy.issuers[0] ?? '';
    throw tokenError(
      'iss',
      `iss ${claims.iss} not in [${policy.issuers.join(', ')}]`,
      wrongIssuerMessage(claims.iss, expected, policy.authority ?? authorityFor(expected)),
    );
  }
  if (policy.tenantId !== undefined && (typeof claims.tid !== 'string' || claims.tid.toLowerCase() !== policy.tenantId.toLowerCase())) {
    const expected = policy.issuers.find((i) => i.toLowerCase().includes(policy.tenantId!.toLowerCase())) ?? policy.tenantId;
    throw tokenError(
      'tid',
      `tid ${String(claims.tid)} != ${policy.tenantId}`,
      wrongIssuerMessage(claims.iss, expected, policy.authority ?? authorityFor(expected)),
    );
  }
  const aud = normalizeAudience(claims.aud);
  if (!policy.audiences.some((a) => normalizeAudience(a) === aud)) {
    throw tokenError(
      'aud',
      `aud ${claims.aud} not in [${policy.audiences.join(', ')}]`,
      wrongAudienceMessage(claims.aud, policy.audiences),
    );
  }
}

const URL_LIKE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/s;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `https://Management.Azure.com/` ≡ `https://management.azure.com`: scheme and host are case-insensitive
 * (RFC 3986 §6.2.2.1) and clients disagree on the trailing slash (az sends it, the SDKs do not). The path stays
 * case-sensitive, and no other URL normalisation (ports, percent-encoding) is applied, as Entra does not either.
 */
export const normalizeAudience: (aud: string) => string = boundedMemo((aud) => normalizeUncached(aud), 1024, (aud) => aud.length <= 512);

function normalizeUncached(aud: string): string {
  const m = URL_LIKE.exec(aud);
  const s = m ? `${m[1]!.toLowerCase()}://${m[2]!.toLowerCase()}${m[3]!}` : GUID.test(aud) ? aud.toLowerCase() : aud;
  return s.replace(/\/+$/, '');
}

/** The authority to name in the wrong-issuer message: ARM says `https://login.windows.net/{tid}` for v1 issuers. */
function authorityFor(issuer: string): string {
  const v1 = /^https:\/\/sts\.windows\.net\/([^/]+)\/?$/.exec(issuer);
  if (v1) return `https://login.windows.net/${v1[1]!}`;
  return issuer.replace(/\/v2\.0\/?$/, '');
}

function mapJoseError(e: unknown, token: string, now: number, kid: string): Error {
  if (isKeylessError(e)) return e;
  const code = (e as { code?: unknown } | null)?.code;
  const claim = (e as { claim?: unknown } | null)?.claim;
  const reasonFor: Record<string, TokenFailureReason> = {
    ERR_JOSE_ALG_NOT_ALLOWED: 'alg',
    ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'sig',
    ERR_JWT_EXPIRED: 'exp',
    ERR_JOSE_NOT_SUPPORTED: 'header',
  };
  let reason: TokenFailureReason = (typeof code === 'string' && reasonFor[code]) || 'malformed';
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && claim === 'nbf') reason = 'nbf';
  const detail = `${String(code ?? (e as Error)?.name)}: ${(e as Error)?.message ?? String(e)} (kid ${kid})`;
  if (reason === 'exp') {
    const exp = expClaim(token);
    if (exp !== undefined) return tokenError('exp', detail, expiredMessage(exp, now), e);
  }
  if (reason === 'nbf') return tokenError('nbf', detail, 'The access token is not yet valid.', e);
  return tokenError(reason, detail, undefined, e);
}

function expClaim(token: string): number | undefined {
  try {
    const payload: unknown = JSON.parse(b64urlDecode(token.split('.')[1] ?? '')?.toString('utf8') ?? '');
    return isObject(payload) && typeof payload.exp === 'number' ? payload.exp : undefined;
  } catch {
    return undefined;
  }
}
