/**
 * The Key Vault bearer challenge (protocols.md §4.2). Both official SDK families must accept it:
 * - JS splits on /,? +/ and needs every value double-quoted; it takes the tenant from the whole path of
 *   `authorization` and checks that the request *hostname* ends with "." + the resource hostname.
 * - Python splits on "," then "=", so no value may contain "=" or ","; it checks the request *netloc*
 *   (host:port) ends with "." + the resource netloc — hence the resource carries the port whenever the
 *   vault URL does.
 */
export interface Challenge {
  authorization: string;
  resource: string;
}

export function buildChallenge(c: Challenge): string {
  for (const v of [c.authorization, c.resource]) {
    if (/[",=\s]/.test(v)) throw new Error(`challenge value cannot carry quotes, commas, '=' or spaces: ${v}`);
  }
  return `Bearer authorization="${c.authorization}", resource="${c.resource}"`;
}

/** `https://vault.{suffix}` plus the port exactly as the client's Host header names it. */
export function challengeResource(dnsSuffix: string, port: string | undefined): string {
  return `https://vault.${dnsSuffix.toLowerCase()}${port ? `:${port}` : ''}`;
}

/** The JS SDK's parser (keyvault-common parseWWWAuthenticateHeader), for tests and diagnostics. */
export function parseChallengeLikeJs(header: string): Record<string, string> {
  const known = ['authorization', 'authorization_url', 'resource', 'scope', 'tenantId', 'claims', 'error'];
  const out: Record<string, string> = {};
  for (const p of header.split(/,? +/)) {
    if (!/\w="/.test(p)) continue;
    const [key, ...value] = p.split('=');
    if (known.includes(key!)) out[key!] = value.join('=').slice(1, -1);
  }
  if (out['authorization']) {
    const tenantId = new URL(out['authorization']).pathname.substring(1);
    if (tenantId) out['tenantId'] = tenantId;
  }
  return out;
}

/** The Python SDK's parser (azure-keyvault http_challenge.py): split on ",", then on "=". */
export function parseChallengeLikePython(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  const body = header.replace(/^Bearer\s+/i, '');
  for (const item of body.split(',')) {
    const parts = item.split('=');
    if (parts.length !== 2) throw new Error(`invalid challenge parameter: ${item}`);
    out[parts[0]!.trim().replace(/"/g, '')] = parts[1]!.trim().replace(/"/g, '');
  }
  return out;
}

/** Would the JS SDK accept this challenge for a request to `requestUrl`? (its domain verification) */
export function jsAcceptsResource(requestUrl: string, resource: string): boolean {
  const req = new URL(requestUrl);
  const res = new URL(resource);
  return req.protocol === 'https:' && req.hostname.endsWith('.' + res.hostname);
}

/** Would the Python SDK accept it? (netloc, port included) */
export function pythonAcceptsResource(requestUrl: string, resource: string): boolean {
  const netloc = (u: string) => /^[a-z]+:\/\/([^/?#]*)/i.exec(u)?.[1]?.toLowerCase() ?? '';
  return netloc(requestUrl).endsWith('.' + netloc(resource));
}
