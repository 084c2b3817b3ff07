import { badParameter } from './errors.js';
import type { SecretInput, SecretPatch } from './secrets.js';

/** Request bodies of the secrets API, validated into domain inputs; every mistake is a 400 BadParameter. */
export function parseJsonBody(raw: string | undefined): Record<string, unknown> {
  if (raw === undefined || raw.trim() === '') throw badParameter('The request body is empty; a JSON object is required.');
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw badParameter('The request body is not valid JSON.');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badParameter('The request body must be a JSON object.');
  return v as Record<string, unknown>;
}

const MAX_TAGS = 15;
const MAX_TAG_LENGTH = 512;
const MAX_CONTENT_TYPE = 255;

export function parseSetSecret(body: Record<string, unknown>): SecretInput {
  const value = body['value'];
  if (typeof value !== 'string') throw badParameter("Property 'value' is required and must be a string.");
  const attrs = parseAttributes(body['attributes']);
  const contentType = parseContentType(body['contentType']);
  const tags = parseTags(body['tags']);
  return {
    value,
    ...(contentType !== undefined && contentType !== null ? { contentType } : {}),
    ...(tags ? { tags } : {}),
    ...(attrs.enabled !== undefined ? { enabled: attrs.enabled } : {}),
    ...(typeof attrs.nbf === 'number' ? { nbf: attrs.nbf } : {}),
    ...(typeof attrs.exp === 'number' ? { exp: attrs.exp } : {}),
  };
}

export function parseUpdateSecret(body: Record<string, unknown>): SecretPatch {
  const attrs = parseAttributes(body['attributes']);
  const patch: SecretPatch = { ...attrs };
  if ('contentType' in body) patch.contentType = parseContentType(body['contentType']);
  if ('tags' in body) patch.tags = parseTags(body['tags']) ?? null;
  return patch;
}

export function parseRestore(body: Record<string, unknown>): string {
  const value = body['value'];
  if (typeof value !== 'string' || value === '') throw badParameter("Property 'value' is required and must be a base64url string.");
  return value;
}

function parseAttributes(raw: unknown): { enabled?: boolean; nbf?: number | null; exp?: number | null } {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw badParameter("Property 'attributes' must be an object.");
  const a = raw as Record<string, unknown>;
  const out: { enabled?: boolean; nbf?: number | null; exp?: number | null } = {};
  if (a['enabled'] !== undefined && a['enabled'] !== null) {
    if (typeof a['enabled'] !== 'boolean') throw badParameter("Property 'attributes.enabled' must be a boolean.");
    out.enabled = a['enabled'];
  }
  for (const k of ['nbf', 'exp'] as const) {
    if (!(k in a)) continue;
    const v = a[k];
    if (v === null) out[k] = null;
    else if (typeof v === 'number' && Number.isInteger(v) && v >= 0) out[k] = v;
    else throw badParameter(`Property 'attributes.${k}' must be a whole number of seconds since 1970-01-01T00:00:00Z.`);
  }
  return out;
}

function parseContentType(raw: unknown): string | null | undefined {
  if (raw === undefined) return undefined;
  if (raw === null) return null;
  if (typeof raw !== 'string') throw badParameter("Property 'contentType' must be a string.");
  if (raw.length > MAX_CONTENT_TYPE) throw badParameter(`Property 'contentType' exceeds ${MAX_CONTENT_TYPE} characters.`);
  return raw;
}

function parseTags(raw: unknown): Record<string, string> | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw badParameter("Property 'tags' must be an object of strings.");
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > MAX_TAGS) throw badParameter(`The number of tags exceeds the maximum of ${MAX_TAGS}.`);
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw badParameter(`Tag '${k}' must have a string value.`);
    if (k.length > MAX_TAG_LENGTH || v.length > MAX_TAG_LENGTH) throw badParameter(`Tag '${k.slice(0, 64)}' exceeds ${MAX_TAG_LENGTH} characters.`);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}
