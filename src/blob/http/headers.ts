import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { BlobHttpProperties, BlobRecord } from '../domain/service.js';
import { invalidHeaderValue, md5Mismatch } from '../errors.js';
import { checkMetadata } from '../names.js';

/** `x-ms-meta-*` request headers, names in the case the client sent them (from rawHeaders: Node lower-cases). */
export function readMetadata(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.toLowerCase().startsWith('x-ms-meta-')) out[name.slice('x-ms-meta-'.length)] = raw[i + 1]!;
  }
  checkMetadata(out);
  return out;
}

export function metadataHeaders(metadata: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).map(([k, v]) => [`x-ms-meta-${k}`, v]));
}

const h = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? undefined : s;
};

/** A base64 MD5 header value, checked for shape (16 bytes). */
export function md5Header(req: IncomingMessage, name: string): string | undefined {
  const v = h(req, name);
  if (v === undefined) return undefined;
  if (!/^[A-Za-z0-9+/]{22}==$/.test(v)) throw invalidHeaderValue(name, v);
  return v;
}

export const md5 = (data: Buffer): string => createHash('md5').update(data).digest('base64');

/** Validates `Content-MD5` against the body's MD5, `computed` (400 Md5Mismatch); returns it. */
export function verifyContentMd5(req: IncomingMessage, computed: string): string {
  const sent = md5Header(req, 'content-md5');
  if (sent !== undefined && sent !== computed) throw md5Mismatch(sent, computed);
  return computed;
}

/**
 * Blob HTTP properties from a write. Put Blob also takes the plain request headers (the body *is* the blob);
 * Put Block List and Set Blob Properties only the `x-ms-blob-*` forms.
 */
export function readBlobProperties(req: IncomingMessage, opts: { plainHeaders: boolean; defaultContentType: string | null }): BlobHttpProperties {
  const pick = (blobHeader: string, plain: string) => h(req, blobHeader) ?? (opts.plainHeaders ? h(req, plain) : undefined) ?? null;
  return {
    contentType: pick('x-ms-blob-content-type', 'content-type') ?? opts.defaultContentType,
    contentEncoding: pick('x-ms-blob-content-encoding', 'content-encoding'),
    contentLanguage: pick('x-ms-blob-content-language', 'content-language'),
    cacheControl: pick('x-ms-blob-cache-control', 'cache-control'),
    contentDisposition: h(req, 'x-ms-blob-content-disposition') ?? null,
    contentMd5: md5Header(req, 'x-ms-blob-content-md5') ?? null,
  };
}

/** Response headers describing a blob (Get Blob, Get Blob Properties). */
export function blobHeaders(b: BlobRecord): Record<string, string | undefined> {
  return {
    'Last-Modified': new Date(b.lastModified).toUTCString(),
    'x-ms-creation-time': new Date(b.createdAt).toUTCString(),
    ETag: b.etag,
    'Content-Type': b.contentType ?? 'application/octet-stream',
    'Content-Encoding': b.contentEncoding ?? undefined,
    'Content-Language': b.contentLanguage ?? undefined,
    'Cache-Control': b.cacheControl ?? undefined,
    'Content-Disposition': b.contentDisposition ?? undefined,
    'x-ms-blob-type': 'BlockBlob',
    'x-ms-lease-status': 'unlocked',
    'x-ms-lease-state': 'available',
    'x-ms-server-encrypted': 'true',
    ...metadataHeaders(b.metadata),
  };
}
