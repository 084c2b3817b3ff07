import type { IncomingMessage } from 'node:http';

/**
 * The account or vault a data-plane request is for, as a fault's target names it: the first label of
 * `<name>.vault.<suffix>` / `<name>.blob.<suffix>`, or — on a plain host such as 127.0.0.1, where Blob is
 * path-routed — the first path segment.
 */
export function dataPlaneNames(req: IncomingMessage, kind: 'vault' | 'blob', dnsSuffix: string): string[] {
  const host = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
  const suffix = `.${kind}.${dnsSuffix.toLowerCase()}`;
  if (host.endsWith(suffix)) return [host.slice(0, -suffix.length)];
  if (kind === 'blob') {
    const first = (req.url ?? '/').split('?')[0]!.replace(/^\/+/, '').split('/')[0]!;
    return first ? [first.toLowerCase()] : [];
  }
  return [];
}
