/**
 * `KEYLESS_STARTUP_TRACE=1`: a table of start-up phases (ms since the process started, and each phase's own
 * share) on stderr once the server is ready, to see where a cold start goes without a profiler. Off, each
 * mark is one property read.
 */
const enabled = process.env['KEYLESS_STARTUP_TRACE'] === '1';
const marks: { phase: string; at: number }[] = [];

/** Records that `phase` has just finished. */
export function startupMark(phase: string): void {
  if (enabled) marks.push({ phase, at: performance.now() });
}

/** Writes the table (once) when tracing is on. */
export function reportStartup(): void {
  if (!enabled || marks.length === 0) return;
  let prev = 0;
  const rows = marks.map(({ phase, at }) => {
    const row = `${at.toFixed(1).padStart(8)} ${(at - prev).toFixed(1).padStart(8)}  ${phase}`;
    prev = at;
    return row;
  });
  const loader = (globalThis as Record<symbol, unknown>)[Symbol.for('keyless.loader')] ?? 'TypeScript sources';
  process.stderr.write([`keyless start-up (ms since process start; code: ${String(loader)}):`, '   total    phase', ...rows, ''].join('\n'));
  marks.length = 0;
}
