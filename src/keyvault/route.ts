import type { SecretOperationName } from './operations.js';

export type KvRoute =
  | { op: SecretOperationName; name?: string; version?: string }
  | { op: 'unsupported'; collection: string }
  | { op: 'notFound' };

/** Collections Key Vault serves that Keyless does not implement yet (docs/deviations/keyvault.md). */
const UNSUPPORTED = new Set(['keys', 'deletedkeys', 'certificates', 'deletedcertificates', 'storage', 'deletedstorage', 'rng', 'securitydomain']);

/**
 * Path + method → secrets operation. Tolerates what clients send: a trailing `/` when no version is given
 * (both SDKs), `//secrets` (Az PowerShell), any case in the collection segment. `undefined` name segments
 * mean the path could not be percent-decoded.
 */
export function routeKeyVault(method: string, rawPath: string): KvRoute | undefined {
  const seg = rawPath.replace(/\/{2,}/g, '/').replace(/^\/|\/$/g, '').split('/').filter((s, i, a) => s !== '' || a.length === 1);
  const decoded: string[] = [];
  for (const s of seg) {
    try {
      decoded.push(decodeURIComponent(s));
    } catch {
      return undefined;
    }
  }
  const [c, name, third] = decoded;
  const collection = (c ?? '').toLowerCase();
  const m = method.toUpperCase();
  const n = decoded.length;
  if (collection === 'secrets') {
    if (n === 1) return m === 'GET' ? { op: 'list' } : { op: 'notFound' };
    if (n === 2 && name!.toLowerCase() === 'restore' && m === 'POST') return { op: 'restore' };
    if (n === 2) {
      const op = ({ GET: 'get', PUT: 'set', DELETE: 'delete', PATCH: 'update' } as const)[m as 'GET'];
      return op ? { op, name: name! } : { op: 'notFound' };
    }
    if (n === 3) {
      const t = third!.toLowerCase();
      if (t === 'versions' && m === 'GET') return { op: 'listVersions', name: name! };
      if (t === 'backup' && m === 'POST') return { op: 'backup', name: name! };
      if (m === 'GET') return { op: 'get', name: name!, version: third! };
      if (m === 'PATCH') return { op: 'update', name: name!, version: third! };
    }
    return { op: 'notFound' };
  }
  if (collection === 'deletedsecrets') {
    if (n === 1) return m === 'GET' ? { op: 'listDeleted' } : { op: 'notFound' };
    if (n === 2 && m === 'GET') return { op: 'getDeleted', name: name! };
    if (n === 2 && m === 'DELETE') return { op: 'purge', name: name! };
    if (n === 3 && third!.toLowerCase() === 'recover' && m === 'POST') return { op: 'recover', name: name! };
    return { op: 'notFound' };
  }
  if (UNSUPPORTED.has(collection)) return { op: 'unsupported', collection };
  return { op: 'notFound' };
}
