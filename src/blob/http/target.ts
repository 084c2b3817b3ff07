import type { IncomingMessage } from 'node:http';
import { invalidUri } from '../errors.js';
import { Query } from '../query.js';
import type { Level } from '../operations.js';

/** What a Blob URL addresses, in either URL style. */
export interface BlobTarget {
  account: string;
  container: string | undefined;
  /** URL-decoded, case kept. */
  blob: string | undefined;
  level: Level;
  hostStyle: boolean;
  /** Path as sent, percent-encoded (what Shared Key signs). */
  rawPath: string;
  rawQuery: string;
  query: Query;
  /** `https://{host}/` or `https://{host}/{account}/`: what listings report as ServiceEndpoint. */
  serviceEndpoint: string;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw invalidUri();
  }
}

/**
 * Host style: `{account}.blob.{suffix}` with `/{container}/{blob…}`. Path style (IP or plain hosts):
 * `/{account}/{container}/{blob…}`. A blob name is everything after the container's slash, decoded once, so
 * it may itself contain `/` (or start with one).
 */
export function parseTarget(req: IncomingMessage, dnsSuffix: string): BlobTarget {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  const hostHeader = (req.headers.host ?? '').toLowerCase();
  const host = hostHeader.replace(/:\d+$/, '');
  const suffix = `.blob.${dnsSuffix.toLowerCase()}`;
  const hostStyle = host.endsWith(suffix) && host.length > suffix.length;

  let rest = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  let account: string;
  let serviceEndpoint: string;
  if (hostStyle) {
    account = host.slice(0, -suffix.length);
    serviceEndpoint = `https://${hostHeader}/`;
  } else {
    const slash = rest.indexOf('/');
    account = decode(slash < 0 ? rest : rest.slice(0, slash)).toLowerCase();
    rest = slash < 0 ? '' : rest.slice(slash + 1);
    serviceEndpoint = `https://${hostHeader}/${account}/`;
  }
  if (account === '' || account.includes('.')) throw invalidUri();

  const slash = rest.indexOf('/');
  const containerRaw = slash < 0 ? rest : rest.slice(0, slash);
  const blobRaw = slash < 0 ? undefined : rest.slice(slash + 1);
  const container = containerRaw === '' ? undefined : decode(containerRaw);
  // `/{container}/` (trailing slash, nothing after) addresses the container, as the service treats it.
  const blob = blobRaw === undefined || blobRaw === '' ? undefined : decode(blobRaw);
  if (container === undefined && blob !== undefined) throw invalidUri();
  const level: Level = container === undefined ? 'service' : blob === undefined ? 'container' : 'blob';
  return { account, container, blob, level, hostStyle, rawPath, rawQuery, query: new Query(rawQuery), serviceEndpoint };
}
