/**
 * One error type for the whole server. `code` is what Azure would put on the wire (AuthorizationFailed,
 * ForbiddenByRbac, invalid_request, AADSTS…); `message` is public; `detail` is private (logs and audit only).
 * Each surface owns one serializer that turns a KeylessError into its own wire format.
 */
export interface KeylessErrorOptions {
  /** Private detail for logs and audit; never serialized to clients. */
  detail?: string;
  /** Extra public fields a surface may serialize (e.g. AADSTS error_codes, ARM target). */
  extra?: Record<string, unknown>;
  /** Response headers a surface should add (e.g. WWW-Authenticate, Retry-After). */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class KeylessError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string | undefined;
  readonly extra: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, options: KeylessErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KeylessError';
    this.status = status;
    this.code = code;
    this.detail = options.detail;
    this.extra = options.extra ?? {};
    this.headers = options.headers ?? {};
  }
}

export function isKeylessError(e: unknown): e is KeylessError {
  return e instanceof KeylessError;
}
