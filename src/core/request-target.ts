/**
 * Splits an HTTP request target into its raw path and its query. `new URL(target, base)` is wrong for
 * servers: it resolves `..`, turns `\` into `/`, and reads a leading `//x` as a host name.
 */
export function splitTarget(target: string | undefined): { path: string; query: URLSearchParams } {
  const t = target ?? '/';
  const q = t.indexOf('?');
  return { path: q < 0 ? t : t.slice(0, q), query: new URLSearchParams(q < 0 ? '' : t.slice(q + 1)) };
}
