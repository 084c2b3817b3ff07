/**
 * Key Vault list paging: at most 25 items a page (`maxresults`, 1–25), continued by a `nextLink` carrying an
 * opaque `$skiptoken`. The token is the sort key of the last item served, so pages stay stable while items
 * are added or removed between calls.
 */
export const MAX_PAGE = 25;

export class PagingError extends Error {
  override name = 'PagingError';
}

export function parseMaxResults(raw: string | undefined): number {
  if (raw === undefined || raw === '') return MAX_PAGE;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) throw new PagingError(`Invalid value for maxresults: '${raw.slice(0, 16)}'. The value must be between 1 and ${MAX_PAGE}.`);
  return n;
}

const PREFIX = 'kl1:';

export function encodeSkipToken(after: string): string {
  return Buffer.from(PREFIX + after, 'utf8').toString('base64url');
}

export function decodeSkipToken(token: string | undefined): string | undefined {
  if (token === undefined || token === '') return undefined;
  const text = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
  if (!text.startsWith(PREFIX)) throw new PagingError(`Invalid value for $skiptoken: '${token.slice(0, 64)}'.`);
  return text.slice(PREFIX.length);
}

/** As Key Vault writes it: `{vault}{path}?api-version=…&$skiptoken=…[&maxresults=…]`, or null on the last page. */
export function nextLink(base: string, path: string, apiVersion: string, cursor: string | undefined, maxResults: number, explicitMax: boolean): string | null {
  if (cursor === undefined) return null;
  const max = explicitMax ? `&maxresults=${maxResults}` : '';
  return `${base}${path}?api-version=${encodeURIComponent(apiVersion)}&$skiptoken=${encodeSkipToken(cursor)}${max}`;
}
