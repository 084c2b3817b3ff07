/**
 * Which `aud` values a certificate assertion may carry: a token endpoint of this server. msal puts the
 * `token_endpoint` from discovery there, which names the tenant as the client wrote it (GUID, domain alias,
 * `organizations` …) and the host it dialled (localhost, 127.0.0.1, login.<suffix>); az's ADFS mode uses
 * `/adfs/oauth2/token`. Scheme and host compare case-insensitively, the path too (Keyless routes it so),
 * and a trailing slash is ignored.
 */
export class TokenEndpointAudience {
  private readonly origins: Set<string>;
  private readonly tenants: Set<string>;

  constructor(opts: { origins: readonly string[]; tenants: readonly string[] }) {
    this.origins = new Set(opts.origins.map((o) => o.toLowerCase().replace(/\/+$/, '')));
    this.tenants = new Set([...opts.tenants.map((t) => t.toLowerCase()), 'common', 'organizations']);
  }

  /** `postedTo` is the endpoint this request came in on; it is always accepted. */
  accepts(aud: readonly string[], postedTo: string): boolean {
    const posted = normalize(postedTo);
    return aud.some((a) => {
      const n = normalize(a);
      if (n === undefined) return false;
      const [origin, path] = n;
      if (posted && origin === posted[0] && path === posted[1]) return true;
      if (!this.origins.has(origin)) return false;
      if (path === '/adfs/oauth2/token') return true;
      const m = /^\/([^/]+)\/oauth2\/(?:v2\.0\/)?token$/.exec(path);
      return m !== null && this.tenants.has(m[1]!);
    });
  }
}

function normalize(u: string): [string, string] | undefined {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' || url.search || url.hash) return undefined;
  return [url.origin.toLowerCase(), url.pathname.toLowerCase().replace(/\/+$/, '')];
}
