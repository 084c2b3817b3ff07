import { blobAlreadyExists, conditionNotMet, notModified } from './errors.js';

/** The HTTP conditional headers, parsed. Dates are epoch ms; unparsable dates are ignored, as HTTP says. */
export interface Conditions {
  ifMatch: string[] | undefined;
  ifNoneMatch: string[] | undefined;
  ifModifiedSince: number | undefined;
  ifUnmodifiedSince: number | undefined;
}

export interface Versioned {
  etag: string;
  lastModified: number;
}

type HeaderBag = Record<string, string | string[] | undefined>;

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

function etags(v: string | undefined): string[] | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function date(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

export function parseConditions(headers: HeaderBag): Conditions {
  return {
    ifMatch: etags(first(headers['if-match'])),
    ifNoneMatch: etags(first(headers['if-none-match'])),
    ifModifiedSince: date(first(headers['if-modified-since'])),
    ifUnmodifiedSince: date(first(headers['if-unmodified-since'])),
  };
}

// Clients send ETags back quoted as received; some strip the quotes or add a weak prefix. Compare the core.
const core = (etag: string): string => etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
const matches = (list: string[], etag: string): boolean => list.some((e) => e === '*' || core(e) === core(etag));
// HTTP dates have one-second resolution; so does the comparison.
const seconds = (ms: number): number => Math.floor(ms / 1000);

/**
 * GET/HEAD on an existing resource, in RFC 9110 §13.2.2 order: If-Match, If-Unmodified-Since (412), then
 * If-None-Match, If-Modified-Since (304).
 */
export function checkRead(c: Conditions, r: Versioned): void {
  if (c.ifMatch !== undefined) {
    if (!matches(c.ifMatch, r.etag)) throw conditionNotMet();
  } else if (c.ifUnmodifiedSince !== undefined && seconds(r.lastModified) > seconds(c.ifUnmodifiedSince)) {
    throw conditionNotMet();
  }
  if (c.ifNoneMatch !== undefined) {
    if (matches(c.ifNoneMatch, r.etag)) throw notModified();
  } else if (c.ifModifiedSince !== undefined && seconds(r.lastModified) <= seconds(c.ifModifiedSince)) {
    throw notModified();
  }
}

/**
 * A write against `r` (undefined when the target does not exist yet). Every failed condition is 412, except
 * `If-None-Match: *` on a create-or-replace of an existing blob, which the service reports as 409
 * BlobAlreadyExists (`createIfNotExists` depends on that code).
 */
export function checkWrite(c: Conditions, r: Versioned | undefined, opts: { noneMatchStarConflict?: boolean } = {}): void {
  if (!r) {
    if (c.ifMatch !== undefined) throw conditionNotMet();
    return;
  }
  if (c.ifMatch !== undefined && !matches(c.ifMatch, r.etag)) throw conditionNotMet();
  if (c.ifNoneMatch !== undefined && matches(c.ifNoneMatch, r.etag)) {
    if (opts.noneMatchStarConflict && c.ifNoneMatch.includes('*')) throw blobAlreadyExists();
    throw conditionNotMet();
  }
  if (c.ifModifiedSince !== undefined && seconds(r.lastModified) <= seconds(c.ifModifiedSince)) throw conditionNotMet();
  if (c.ifUnmodifiedSince !== undefined && seconds(r.lastModified) > seconds(c.ifUnmodifiedSince)) throw conditionNotMet();
}
