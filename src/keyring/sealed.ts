/**
 * The sealed-value format: `v1.<dataKeyId>.<iv>.<ciphertext>.<tag>`, each part base64url. Self-describing so a
 * value names the data key that opens it, and dot-separated so it fits a TEXT column and a log line.
 */
export const SEALED_VERSION = 'v1';
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
export const DATA_KEY_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

export interface SealedParts {
  version: string;
  keyId: string;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

export function formatSealed(p: Omit<SealedParts, 'version'>): string {
  return [SEALED_VERSION, p.keyId, p.iv.toString('base64url'), p.ciphertext.toString('base64url'), p.tag.toString('base64url')].join('.');
}

/**
 * Strict base64url: Buffer's decoder ignores stray characters and unused trailing bits, so two different strings
 * could decode to the same bytes. Requiring the canonical encoding makes every edit to a sealed string an error.
 */
function decodeStrict(s: string): Buffer | undefined {
  const b = Buffer.from(s, 'base64url');
  return b.toString('base64url') === s ? b : undefined;
}

/** Parses a sealed string, or returns the reason it is malformed. */
export function parseSealed(sealed: string): SealedParts | string {
  if (typeof sealed !== 'string') return 'not a string';
  const parts = sealed.split('.');
  if (parts.length !== 5) return `expected 5 dot-separated parts, got ${parts.length}`;
  const [version, keyId, ivS, ctS, tagS] = parts as [string, string, string, string, string];
  if (version !== SEALED_VERSION) return `unsupported format version ${JSON.stringify(version.slice(0, 16))}`;
  if (!DATA_KEY_ID_RE.test(keyId)) return 'malformed data key id';
  const iv = decodeStrict(ivS);
  const ciphertext = decodeStrict(ctS);
  const tag = decodeStrict(tagS);
  if (!iv || iv.length !== IV_BYTES) return 'malformed iv';
  if (!ciphertext) return 'malformed ciphertext';
  if (!tag || tag.length !== TAG_BYTES) return 'malformed tag';
  return { version, keyId, iv, ciphertext, tag };
}
