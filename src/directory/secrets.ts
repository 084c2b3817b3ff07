import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Client secrets are generated here (never chosen by users) with 240 bits of entropy, so a salted SHA-256
 * resists guessing as well as a slow KDF would, without costing milliseconds on every token request.
 */
export function generateClientSecret(): string {
  // Azure's secrets look like `abc8Q~…` (40 chars); keep the `~` marker so scanners recognise them.
  const body = randomBytes(30).toString('base64url');
  return `${body.slice(0, 3)}8Q~${body.slice(3)}`;
}

export function hashSecret(secret: string, salt = randomBytes(16).toString('base64url')): string {
  const digest = createHash('sha256').update(salt).update('\0').update(secret).digest('base64url');
  return `sha256$${salt}$${digest}`;
}

export function verifySecretHash(secret: string, stored: string): boolean {
  const [scheme, salt, digest] = stored.split('$');
  if (scheme !== 'sha256' || !salt || !digest) return false;
  const expected = Buffer.from(digest, 'base64url');
  const actual = Buffer.from(hashSecret(secret, salt).split('$')[2] ?? '', 'base64url');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The first three characters, as Azure shows in `hint`. */
export const secretHint = (secret: string): string => secret.slice(0, 3);
