/**
 * How many cases a fuzz property tries. CI keeps the default (each suite well under 10 s); set KEYLESS_FUZZ_RUNS to
 * dig deeper locally, e.g. `KEYLESS_FUZZ_RUNS=20000 npx vitest run test/unit/fuzz`.
 */
export function fuzzRuns(ciDefault: number): number {
  const n = Number(process.env['KEYLESS_FUZZ_RUNS']);
  return Number.isSafeInteger(n) && n > 0 ? n : ciDefault;
}

/** Characters that break naive parsers: separators, encodings, unicode, controls. */
export const NASTY = ['/', '\\', '..', '%2f', '%2e', '%00', '%', '?', '#', '&', '=', ';', ':', '@', ' ', '\t', '\n', '\u0000', '\u00e9', '\u202e', '\ud83d\ude00', '\ud800', '"', "'", '<', '>', '*', '+', ',', '__proto__', 'constructor'];
