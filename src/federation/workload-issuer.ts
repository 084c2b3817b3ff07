import { createPublicKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { KeylessError } from '../core/errors.js';
import type { SigningKeys } from '../tokens/index.js';
import { DEFAULT_FIC_AUDIENCE } from './fic-rules.js';
import type { IssuerKey, IssuerKeySource } from './issuer-keys.js';

/** Longest a workload token lives; Kubernetes' projected tokens default to the same hour. */
export const MAX_WORKLOAD_TOKEN_SEC = 3600;
const MIN_WORKLOAD_TOKEN_SEC = 60;

export interface WorkloadToken {
  token: string;
  issuer: string;
  subject: string;
  audience: string;
  /** epoch seconds */
  issuedAt: number;
  expiresOn: number;
}

/** `{base}/keyless/oidc/{tenantId}`: under the ops surface (`/keyless/…`), which the dispatcher already routes. */
export const workloadIssuerUrl = (baseUrl: string, tenantId: string): string => `${baseUrl.replace(/\/+$/, '')}/keyless/oidc/${tenantId}`;

/**
 * Keyless as an OIDC token issuer for local workloads — what an AKS cluster's service-account issuer is to its
 * pods. It signs with Keyless's own signing keys (published in its JWKS too), so verifying its tokens needs no
 * HTTP round trip; `iss` keeps them apart from access tokens (which name sts.windows.net or the v2 authority).
 */
export class WorkloadIssuer implements IssuerKeySource {
  private readonly publicKeys = new Map<string, KeyObject>();

  constructor(
    readonly url: string,
    private readonly keys: SigningKeys,
    private readonly clock: Clock,
  ) {}

  get jwksUri(): string {
    return `${this.url}/openid/v1/jwks`;
  }

  /** The discovery document, in the shape Kubernetes' service-account issuer publishes. */
  discovery(): Record<string, unknown> {
    return {
      issuer: this.url,
      jwks_uri: this.jwksUri,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    };
  }

  jwks(): { keys: Array<Record<string, unknown>> } {
    return { keys: this.keys.jwks().keys.map((k) => ({ kty: k.kty, use: k.use, alg: 'RS256', kid: k.kid, n: k.n, e: k.e })) };
  }

  mint(input: { subject: string; audience?: string | undefined; lifetimeSec?: number | undefined }): WorkloadToken {
    const audience = input.audience ?? DEFAULT_FIC_AUDIENCE;
    const lifetime = input.lifetimeSec ?? MAX_WORKLOAD_TOKEN_SEC;
    if (!input.subject || input.subject.length > 600) throw new KeylessError(400, 'BadRequest', 'subject must be 1-600 characters.');
    if (!audience || audience.length > 600) throw new KeylessError(400, 'BadRequest', 'audience must be 1-600 characters.');
    const max = Math.min(MAX_WORKLOAD_TOKEN_SEC, this.keys.maxTokenLifetimeSec);
    if (!Number.isInteger(lifetime) || lifetime < MIN_WORKLOAD_TOKEN_SEC || lifetime > max) {
      throw new KeylessError(400, 'BadRequest', `lifetimeSeconds must be an integer between ${MIN_WORKLOAD_TOKEN_SEC} and ${max}.`);
    }
    const key = this.keys.active();
    const now = Math.floor(this.clock.now() / 1000);
    const header = { alg: 'RS256', kid: key.kid, typ: 'JWT' };
    const payload = { aud: [audience], exp: now + lifetime, iat: now, iss: this.url, jti: randomUUID(), nbf: now, sub: input.subject };
    const input64 = `${b64json(header)}.${b64json(payload)}`;
    const signature = sign('sha256', Buffer.from(input64), key.privateKey).toString('base64url');
    return { token: `${input64}.${signature}`, issuer: this.url, subject: input.subject, audience, issuedAt: now, expiresOn: now + lifetime };
  }

  /** In-process key lookup for verifying tokens this issuer minted (retired keys stay until their grace ends). */
  async keysFor(_issuer: string, kid: string | undefined): Promise<IssuerKey[]> {
    const kids = kid !== undefined ? [kid] : this.keys.jwks().keys.map((k) => k.kid);
    const out: IssuerKey[] = [];
    for (const k of kids) {
      const loaded = this.keys.byKid(k);
      if (!loaded) continue;
      let pub = this.publicKeys.get(k);
      if (!pub) {
        pub = createPublicKey({ key: { kty: 'RSA', n: loaded.publicJwk.n, e: loaded.publicJwk.e }, format: 'jwk' });
        if (this.publicKeys.size > 32) this.publicKeys.clear();
        this.publicKeys.set(k, pub);
      }
      out.push({ kid: k, x5t: loaded.x5t, key: pub });
    }
    return out;
  }
}

const b64json = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
