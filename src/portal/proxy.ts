import { XMLParser } from 'fast-xml-parser';
import type { BlobListItem, SecretListItem } from './api-types.js';
import type { Loopback, Upstream, UpstreamResponse } from './loopback.js';

/** One portal request's way upstream: the loopback client and the session's tokens. */
export interface UpstreamCall {
  loopback: Loopback;
  token(audience: string): Promise<string>;
  audiences: { arm: string; vault: string; storage: string };
  /** Sent as x-ms-client-request-id, so the audit trail can tell portal requests apart. */
  requestId: string;
}

const KV_API = '7.4';
const BLOB_VERSION = '2021-08-06';
const OPS_PATHS = /^\/keyless\/v1\/(access\/check|access\/review|audit\/events)(\?|$)/;

export const opsPathAllowed = (target: string): boolean => OPS_PATHS.test(target);

/** Forwards one request with the session principal's bearer; the upstream's status and body come back as they are. */
export async function forward(c: UpstreamCall, u: Upstream, audience: string, method: string, path: string, body: string | undefined): Promise<UpstreamResponse> {
  try {
    return await c.loopback.request(u, {
      method,
      path,
      headers: {
        authorization: `Bearer ${await c.token(audience)}`,
        accept: 'application/json',
        'user-agent': 'keyless-portal',
        'x-ms-client-request-id': c.requestId,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body } : {}),
    });
  } catch (e) {
    return errorResponse(502, 'UpstreamUnavailable', `The portal could not reach ${c.loopback.hostName(u)}: ${(e as Error).message}`);
  }
}

/** Secrets of a vault through the data plane (names and attributes only — Key Vault's list never has values). */
export async function secretsList(c: UpstreamCall, vault: string): Promise<{ value: SecretListItem[] } | { error: UpstreamResponse }> {
  const u: Upstream = { kind: 'vault', name: vault };
  const items: SecretListItem[] = [];
  let path: string | undefined = `/secrets?api-version=${KV_API}&maxresults=25`;
  for (let page = 0; path && page < 40; page++) {
    const r = await forward(c, u, c.audiences.vault, 'GET', path, undefined);
    if (r.status !== 200) return { error: r };
    const body = parseJson(r.body) as { value?: { id: string; contentType?: string; attributes?: { enabled?: boolean; updated?: number } }[]; nextLink?: string | null };
    for (const s of body.value ?? []) {
      items.push({ id: s.id, name: s.id.split('/secrets/')[1]?.split('/')[0] ?? s.id, enabled: s.attributes?.enabled !== false, contentType: s.contentType, updated: s.attributes?.updated });
    }
    path = body.nextLink ? samePath(body.nextLink) : undefined;
  }
  return { value: items };
}

/** One secret's current value: a data-plane read as the signed-in principal, authorized and audited by Key Vault itself. */
export async function secretValue(c: UpstreamCall, vault: string, name: string): Promise<{ value: { name: string; value: string; id: string; contentType?: string } } | { error: UpstreamResponse }> {
  const r = await forward(c, { kind: 'vault', name: vault }, c.audiences.vault, 'GET', `/secrets/${encodeURIComponent(name)}/?api-version=${KV_API}`, undefined);
  if (r.status !== 200) return { error: r };
  const body = parseJson(r.body) as { id: string; value: string; contentType?: string };
  return { value: { name, value: body.value, id: body.id, ...(body.contentType ? { contentType: body.contentType } : {}) } };
}

/** A container's blobs through the Blob data plane (List Blobs), with an OAuth token for Storage. */
export async function blobList(c: UpstreamCall, account: string, container: string): Promise<{ value: { value: BlobListItem[]; truncated: boolean } } | { error: UpstreamResponse }> {
  const u: Upstream = { kind: 'blob', account };
  let r: UpstreamResponse;
  try {
    r = await c.loopback.request(u, {
      method: 'GET',
      path: `/${encodeURIComponent(container)}?restype=container&comp=list&maxresults=1000`,
      headers: {
        authorization: `Bearer ${await c.token(c.audiences.storage)}`,
        'x-ms-version': BLOB_VERSION,
        'x-ms-date': new Date().toUTCString(),
        'x-ms-client-request-id': c.requestId,
        'user-agent': 'keyless-portal',
      },
    });
  } catch (e) {
    return { error: errorResponse(502, 'UpstreamUnavailable', `The portal could not reach the Blob service: ${(e as Error).message}`) };
  }
  const xml = new XMLParser({ ignoreAttributes: true, parseTagValue: false, isArray: (name) => name === 'Blob' });
  let doc: Record<string, any>;
  try {
    doc = xml.parse(r.body.toString('utf8')) as Record<string, any>;
  } catch {
    doc = {};
  }
  if (r.status !== 200) {
    // Blob errors are XML; the portal's are JSON. Keep the service's own code and message.
    const err = doc['Error'] as { Code?: string; Message?: string } | undefined;
    const code = err?.Code ?? (r.status === 404 ? 'ResourceNotFound' : `Http${r.status}`);
    const message = (err?.Message ?? (r.body.toString('utf8').slice(0, 500) || `The Blob service answered ${r.status}.`)).split('\n')[0]!;
    return { error: errorResponse(r.status, code, message, r.headers) };
  }
  const res = (doc['EnumerationResults'] ?? {}) as { Blobs?: { Blob?: { Name: string; Properties?: Record<string, string> }[] } | string; NextMarker?: string };
  const blobs = typeof res.Blobs === 'object' && res.Blobs ? (res.Blobs.Blob ?? []) : [];
  return {
    value: {
      value: blobs.map((b) => ({
        name: String(b.Name),
        size: Number(b.Properties?.['Content-Length'] ?? 0),
        contentType: b.Properties?.['Content-Type'] || undefined,
        lastModified: b.Properties?.['Last-Modified'] || undefined,
      })),
      truncated: Boolean(res.NextMarker),
    },
  };
}

/** A nextLink names the vault's public URL; only its path and query are followed, on the same upstream. */
function samePath(link: string): string | undefined {
  try {
    const u = new URL(link);
    return u.pathname + u.search;
  } catch {
    return undefined;
  }
}

function parseJson(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString('utf8'));
  } catch {
    return {};
  }
}

function errorResponse(status: number, code: string, message: string, from?: UpstreamResponse['headers']): UpstreamResponse {
  const headers: UpstreamResponse['headers'] = { 'content-type': 'application/json; charset=utf-8' };
  if (from && typeof from['x-keyless-authz'] === 'string') headers['x-keyless-authz'] = from['x-keyless-authz'];
  return { status, headers, body: Buffer.from(JSON.stringify({ error: { code, message } })) };
}
