import { sign, type KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { KeylessError } from '../core/errors.js';
import { b64url, b64urlJson } from './base64url.js';
import { buildClaims, drawOpaque, type IssueRequest, type TokenTimes } from './claims.js';
import type { SigningKeys } from './keys.js';

export interface IssuedToken {
  token: string;
  iat: number;
  nbf: number;
  /** Epoch seconds; `exp − now = lifetimeSec` (this is IMDS `expires_on`; `expires_in` = exp − now). */
  exp: number;
  kid: string;
  uti: string;
  claims: Readonly<Record<string, unknown>>;
}

export interface TokenIssuerOptions {
  /** v1 issuer for a tenant, e.g. `https://sts.windows.net/{tid}/`. */
  issuerV1(tenantId: string): string;
  /** v2 issuer for a tenant, e.g. `https://login.microsoftonline.com/{tid}/v2.0` or Keyless's own host. */
  issuerV2(tenantId: string): string;
  /**
   * Entra backdates `iat` and `nbf` by five minutes so a resource whose clock lags still accepts a fresh token
   * (a real MI token has exp − iat = 86 700 = 24 h + 300 s). Default 300.
   */
  backdateSec?: number;
}

interface Prepared {
  input: Buffer;
  key: KeyObject;
  kid: string;
  times: TokenTimes;
  uti: string;
  claims: Record<string, unknown>;
}

/**
 * Signs with node:crypto on the cached KeyObject of the active key rather than jose's SignJWT: the same RS256
 * bytes, measured faster (bench/tokens.ts). Verification stays on jose.
 */
export class TokenIssuer {
  private readonly backdateSec: number;
  private readonly headers = new Map<string, string>();

  constructor(
    private readonly keys: SigningKeys,
    private readonly clock: Clock,
    private readonly opts: TokenIssuerOptions,
  ) {
    this.backdateSec = opts.backdateSec ?? 300;
  }

  /** Signs on the calling thread (~1 ms of event-loop time for RSA-2048). */
  issue(req: IssueRequest): IssuedToken {
    const p = this.prepare(req);
    const signature = sign('sha256', p.input, p.key);
    return this.finish(p, signature);
  }

  /**
   * Same token, signed on libuv's thread pool (node:crypto's callback form), so a burst of token requests does not
   * stall the event loop and can use more than one core.
   */
  async issueAsync(req: IssueRequest): Promise<IssuedToken> {
    const p = this.prepare(req);
    return new Promise((resolve, reject) => {
      sign('sha256', p.input, p.key, (err, signature) => (err ? reject(err) : resolve(this.finish(p, signature))));
    });
  }

  private prepare(req: IssueRequest): Prepared {
    if (!Number.isInteger(req.lifetimeSec) || req.lifetimeSec <= 0 || req.lifetimeSec > this.keys.maxTokenLifetimeSec) {
      // A longer token could outlive its key's publication window; this is a configuration bug, not a client error.
      throw new KeylessError(500, 'InternalServerError', 'The token could not be issued.', {
        detail: `lifetimeSec ${req.lifetimeSec} outside 1..${this.keys.maxTokenLifetimeSec}`,
      });
    }
    const key = this.keys.active();
    const now = Math.floor(this.clock.now() / 1000);
    const times = { iat: now - this.backdateSec, nbf: now - this.backdateSec, exp: now + req.lifetimeSec };
    const issuer = req.version === 1 ? this.opts.issuerV1(req.tenantId) : this.opts.issuerV2(req.tenantId);
    const opaque = drawOpaque();
    const claims = buildClaims(req, issuer, times, opaque);
    const input = `${this.header(key.kid, req.version)}.${b64urlJson(claims)}`;
    return { input: Buffer.from(input), key: key.privateKey, kid: key.kid, times, uti: opaque.uti, claims };
  }

  private finish(p: Prepared, signature: Buffer): IssuedToken {
    return { token: `${p.input.toString('latin1')}.${b64url(signature)}`, ...p.times, kid: p.kid, uti: p.uti, claims: p.claims };
  }

  /** Entra puts x5t (= kid) only in v1 headers (access-token-claims-reference). */
  private header(kid: string, version: 1 | 2): string {
    const cacheKey = `${version}:${kid}`;
    let h = this.headers.get(cacheKey);
    if (h === undefined) {
      h = b64urlJson(version === 1 ? { typ: 'JWT', alg: 'RS256', x5t: kid, kid } : { typ: 'JWT', alg: 'RS256', kid });
      // Only ever a handful of keys; drop stale headers instead of tracking rotations.
      if (this.headers.size > 16) this.headers.clear();
      this.headers.set(cacheKey, h);
    }
    return h;
  }
}
