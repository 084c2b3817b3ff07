import { constants, verify, type KeyObject } from 'node:crypto';

/** A compact JWS split into its parts; nothing in it is trusted until `verifySignature` says so. */
export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: Buffer;
  signature: Buffer;
}

/** Client assertions are a few KB at most (msal adds an x5c chain); this bounds work done for unauthenticated input. */
export const MAX_ASSERTION_CHARS = 16 * 1024;

const SEGMENT = /^[A-Za-z0-9_-]*$/;

export class MalformedJwtError extends Error {
  override name = 'MalformedJwtError';
}

/** Splits and parses a compact JWS without verifying it. Throws MalformedJwtError with a private reason. */
export function decodeJwt(token: string): DecodedJwt {
  if (token.length === 0 || token.length > MAX_ASSERTION_CHARS) throw new MalformedJwtError(`assertion is ${token.length} chars`);
  const parts = token.trim().split('.');
  if (parts.length !== 3) throw new MalformedJwtError(`${parts.length} segments`);
  const [h, p, s] = parts as [string, string, string];
  if (!SEGMENT.test(h) || !SEGMENT.test(p) || !SEGMENT.test(s) || h === '' || p === '') throw new MalformedJwtError('segment is not base64url');
  const header = parseObject(h, 'header');
  const payload = parseObject(p, 'payload');
  return { header, payload, signingInput: Buffer.from(`${h}.${p}`, 'ascii'), signature: Buffer.from(s, 'base64url') };
}

function parseObject(segment: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new MalformedJwtError(`${what} is not JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new MalformedJwtError(`${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

export type AssertionAlg = 'RS256' | 'PS256' | 'ES256';

/**
 * Checks a JWS signature with node:crypto. The key must fit the algorithm (RSA ≥ 2048 bits for RS/PS, P-256 for
 * ES256): an attacker choosing `alg` must not be able to make a key be used in a way its owner never intended.
 */
export function verifySignature(jwt: DecodedJwt, alg: AssertionAlg, key: KeyObject): boolean {
  const type = key.asymmetricKeyType;
  if (alg === 'ES256') {
    if (type !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return false;
    return verify('sha256', jwt.signingInput, { key, dsaEncoding: 'ieee-p1363' }, jwt.signature);
  }
  if (type !== 'rsa' && type !== 'rsa-pss') return false;
  if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return false;
  if (alg === 'RS256') return type === 'rsa' && verify('sha256', jwt.signingInput, key, jwt.signature);
  // RFC 7518 §3.5: PSS with MGF1/SHA-256 and a salt as long as the hash.
  return verify('sha256', jwt.signingInput, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, jwt.signature);
}

/** `aud` may be one string or an array (RFC 7519 §4.1.3). */
export function audiences(payload: Record<string, unknown>): string[] {
  const aud = payload['aud'];
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud)) return aud.filter((a): a is string => typeof a === 'string');
  return [];
}

export const numericClaim = (payload: Record<string, unknown>, name: string): number | undefined => {
  const v = payload[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
};

export const stringClaim = (payload: Record<string, unknown>, name: string): string | undefined => {
  const v = payload[name];
  return typeof v === 'string' ? v : undefined;
};
