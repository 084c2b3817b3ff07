/**
 * Wildcard matching for ActionMatches/SubOperationMatches (RBAC action semantics) and StringLike.
 *
 * Patterns come from whoever may write a role assignment, so matching must not backtrack exponentially: we simulate
 * the pattern as an NFA over (token index, inside-segment) states, which is O(|text| × |pattern|) for any input.
 * Kept local on purpose: src/core/actions.ts is written concurrently and conditions must not depend on it.
 */

export type GlobToken =
  | { kind: 'char'; ch: string }
  | { kind: 'any' } // `?`: exactly one character
  | { kind: 'star' } // `*`: zero or more characters, `/` included
  // `*/` directly after a `/`: matches nothing or anything ending in `/`, so `a/*/b` matches `a/b` as well as
  // `a/x/y/b` — the zero-segment reading the Managed Identity Operator role depends on (spec §1.4).
  | { kind: 'segment' };

/** RBAC action wildcard: case-insensitive, only `*` is special. */
export function compileActionPattern(pattern: string): GlobToken[] {
  const chars = Array.from(pattern.toLowerCase());
  const tokens: GlobToken[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c !== '*') {
      tokens.push({ kind: 'char', ch: c });
      continue;
    }
    if (tokens.at(-1)?.kind === 'star') continue;
    if (chars[i - 1] === '/' && chars[i + 1] === '/') {
      tokens.push({ kind: 'segment' });
      i++; // the segment token owns the following '/'
    } else {
      tokens.push({ kind: 'star' });
    }
  }
  return tokens;
}

/** StringLike pattern: `*`, `?`, and `\` escaping the next character (a trailing `\` is literal). */
export function compileLikePattern(pattern: string, ignoreCase: boolean): GlobToken[] {
  const chars = Array.from(ignoreCase ? foldCase(pattern) : pattern);
  const tokens: GlobToken[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\\' && i + 1 < chars.length) {
      tokens.push({ kind: 'char', ch: chars[++i]! });
    } else if (c === '*') {
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (c === '?') {
      tokens.push({ kind: 'any' });
    } else {
      tokens.push({ kind: 'char', ch: c });
    }
  }
  return tokens;
}

/** The one case fold used by every IgnoreCase operator and by action matching. */
export function foldCase(s: string): string {
  return s.toLowerCase();
}

export function globMatch(tokens: readonly GlobToken[], text: string): boolean {
  const n = tokens.length;
  // Literal patterns (the common ActionMatches case) need no automaton.
  if (tokens.every((t) => t.kind === 'char')) return literalEquals(tokens, text);

  // State = index * 2 + inside; inside = 1 only for a `segment` token that has started consuming characters.
  // Active states are kept as a list (plus a generation stamp to dedupe), so each character costs O(active states).
  const stamp = new Uint32Array((n + 1) * 2);
  let generation = 1;
  let current: number[] = [];
  let next: number[] = [];
  const add = (list: number[], index: number, inside: number): void => {
    // Epsilon moves only go forward, so a loop (not recursion) closes over them: no stack growth on `****…`.
    for (;;) {
      const k = index * 2 + inside;
      if (stamp[k] === generation) return;
      stamp[k] = generation;
      list.push(k);
      if (inside === 1 || index >= n) return;
      const t = tokens[index]!;
      if (t.kind === 'star') {
        index++;
      } else if (t.kind === 'segment') {
        const loop = index * 2 + 1;
        if (stamp[loop] !== generation) {
          stamp[loop] = generation;
          list.push(loop);
        }
        index++;
      } else {
        return;
      }
    }
  };

  add(current, 0, 0);
  for (const ch of text) {
    generation++;
    next.length = 0;
    for (const k of current) {
      const index = k >> 1;
      if (index >= n) continue;
      const t = tokens[index]!;
      if ((k & 1) === 1) {
        add(next, index, 1);
        if (ch === '/') add(next, index + 1, 0);
      } else if (t.kind === 'char') {
        if (t.ch === ch) add(next, index + 1, 0);
      } else if (t.kind === 'any') {
        add(next, index + 1, 0);
      } else if (t.kind === 'star') {
        add(next, index, 0);
      }
    }
    if (next.length === 0) return false;
    [current, next] = [next, current];
  }
  return current.includes(n * 2);
}

function literalEquals(tokens: readonly GlobToken[], text: string): boolean {
  let i = 0;
  for (const ch of text) {
    const t = tokens[i++];
    if (t === undefined || t.kind !== 'char' || t.ch !== ch) return false;
  }
  return i === tokens.length;
}

/** `ActionMatches{'pattern'}` against the action being checked. */
export function actionMatches(pattern: string, action: string): boolean {
  return globMatch(compileActionPattern(pattern), foldCase(action));
}
