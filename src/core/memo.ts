/**
 * A pure function of a string, remembered: for hot paths that see the same few strings over and over (hosts,
 * scopes, audiences). Bounded against a caller cycling through values: the memo is emptied when full.
 * `keep` can refuse to remember an answer (too long, or not worth keeping).
 */
export function boundedMemo<V>(compute: (key: string) => V, max: number, keep: (key: string, value: V) => boolean = () => true): (key: string) => V {
  const entries = new Map<string, V>();
  return (key) => {
    if (entries.has(key)) return entries.get(key) as V;
    const value = compute(key);
    if (keep(key, value)) {
      if (entries.size >= max) entries.clear();
      entries.set(key, value);
    }
    return value;
  };
}
