import { invalidHeaderValue, invalidRange } from './errors.js';

/** An inclusive byte range as a client asked for it; `end` undefined means "to the end". */
export interface RequestedRange {
  start: number;
  end: number | undefined;
  /** Which header carried it, for error reporting. */
  header: 'x-ms-range' | 'range';
}

const FORM = /^\s*bytes\s*=\s*(\d{1,16})\s*-\s*(\d{0,16})\s*$/i;

/**
 * Reads `x-ms-range` (which wins) or `Range`. Blob storage knows one form, `bytes=start-[end]`: no suffix
 * ranges, no lists. A malformed `x-ms-range` is the client's error (400 InvalidHeaderValue); a malformed
 * standard `Range` is ignored and the whole blob served, as RFC 9110 §14.2 allows.
 */
export function parseRange(range: string | undefined, xMsRange: string | undefined): RequestedRange | undefined {
  if (xMsRange !== undefined && xMsRange !== '') {
    const r = parseOne(xMsRange, 'x-ms-range');
    if (!r) throw invalidHeaderValue('x-ms-range', xMsRange);
    return r;
  }
  if (range !== undefined && range !== '') return parseOne(range, 'range');
  return undefined;
}

function parseOne(value: string, header: RequestedRange['header']): RequestedRange | undefined {
  const m = FORM.exec(value);
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = m[2] === '' ? undefined : Number(m[2]);
  if (!Number.isSafeInteger(start) || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) return undefined;
  return { start, end, header };
}

export interface ResolvedRange {
  start: number;
  /** inclusive */
  end: number;
  length: number;
  /** true when the client asked for a range: the answer is 206 with Content-Range even if it spans the blob */
  partial: boolean;
}

/**
 * Fits a requested range to a blob of `size` bytes. A range starting at or past the end (including any range
 * on an empty blob) is 416 InvalidRange; an end past the last byte is clamped, as the service does.
 */
export function resolveRange(r: RequestedRange | undefined, size: number): ResolvedRange {
  if (!r) return { start: 0, end: size - 1, length: size, partial: false };
  if (r.start >= size) throw invalidRange(size);
  const end = Math.min(r.end ?? size - 1, size - 1);
  return { start: r.start, end, length: end - r.start + 1, partial: true };
}

export const contentRange = (r: ResolvedRange, size: number): string => `bytes ${r.start}-${r.end}/${size}`;
