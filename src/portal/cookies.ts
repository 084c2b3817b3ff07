/** Cookie header → name/value pairs. Malformed pairs are skipped: a bad cookie only ever means "no session". */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    // The first occurrence wins, as browsers send the most specific path first.
    if (name && !out.has(name)) out.set(name, value);
  }
  return out;
}

export interface CookieOptions {
  path: string;
  /** seconds; 0 deletes the cookie */
  maxAge: number;
}

/**
 * The session cookie: HttpOnly (no script reads it), Secure (HTTPS only), SameSite=Strict (never sent on a
 * cross-site request, which is the first line of CSRF defence), scoped to the portal's path.
 */
export function sessionCookie(name: string, value: string, opts: CookieOptions): string {
  return `${name}=${value}; Path=${opts.path}; Max-Age=${Math.max(0, Math.floor(opts.maxAge))}; HttpOnly; Secure; SameSite=Strict`;
}
