/**
 * The audit trail never stores credentials. Events are built from structured fields that hold none, but free
 * text (failure reasons, error messages, resource strings a client sent) can quote whatever the client put in
 * a request — so every string is passed through here before it is written.
 */

const REDACTED = '[redacted]';

// A JWT/JWS: three base64url parts, the header starting with `{"` (eyJ).
const JWT = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
// Credentials in query strings or form bodies: SAS signatures, client secrets and assertions, tokens, codes.
const SECRET_PARAM = /([?&;\s]|^)(sig|signature|client_secret|client_assertion|access_token|refresh_token|id_token|assertion|code|password|secret|token)=([^&\s'"]*)/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
const SHARED_KEY = /\b(SharedKey(?:Lite)?)\s+([^:\s]+):[A-Za-z0-9+/=]+/g;
// JSON-ish `"client_secret":"…"` inside an echoed body.
const SECRET_FIELD = /("(?:client_secret|clientSecret|access_token|refresh_token|password|secret|sig|value)"\s*:\s*")[^"]*(")/gi;

/**
 * Strings already found clean. Audit rows repeat the same operations, scopes and reasons, and five regex passes
 * per string per row were a large share of writing one; only strings with nothing to redact are remembered, so
 * the memo never holds a credential. Bounded: cleared when full.
 */
const clean = new Set<string>();
const MAX_CLEAN = 4096;
const MAX_CLEAN_LENGTH = 1024;

/** Removes tokens, secrets and signatures from one string. */
export function scrubText(s: string): string {
  if (clean.has(s)) return s;
  const out = redact(s);
  if (out === s && s.length <= MAX_CLEAN_LENGTH) {
    if (clean.size >= MAX_CLEAN) clean.clear();
    clean.add(s);
  }
  return out;
}

function redact(s: string): string {
  return s
    .replace(JWT, REDACTED)
    .replace(BEARER, (_m, scheme: string) => `${scheme} ${REDACTED}`)
    .replace(SHARED_KEY, (_m, scheme: string, account: string) => `${scheme} ${account}:${REDACTED}`)
    .replace(SECRET_PARAM, (_m, lead: string, name: string) => `${lead}${name}=${REDACTED}`)
    .replace(SECRET_FIELD, `$1${REDACTED}$2`);
}

/** Keys whose values are never kept, whatever they hold. */
const SECRET_KEYS = new Set(['authorization', 'access_token', 'accesstoken', 'token', 'client_secret', 'clientsecret', 'secret', 'password', 'sig', 'signature', 'client_assertion', 'refresh_token', 'id_token']);

/** A deep copy with every string scrubbed and secret-named keys dropped. Depth-limited against cycles. */
export function scrub<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return scrubText(value) as T;
  if (value === null || typeof value !== 'object') return value;
  if (depth > 12) return '[truncated]' as T;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined) continue;
    out[k] = SECRET_KEYS.has(k.toLowerCase()) ? REDACTED : scrub(v, depth + 1);
  }
  return out as T;
}
