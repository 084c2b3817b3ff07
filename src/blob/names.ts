import { invalidMetadata, invalidResourceName, outOfRangeInput, storageError } from './errors.js';

/** Storage account names: 3–24 lower-case letters and digits, globally unique (Azure's rule). */
export const ACCOUNT_NAME = /^[a-z0-9]{3,24}$/;

/**
 * Container names: 3–63 characters, lower-case letters, digits and single hyphens between them. Length is
 * checked first because Azure reports it with its own code (OutOfRangeInput).
 */
export function checkContainerName(name: string): void {
  if (name.length < 3 || name.length > 63) throw outOfRangeInput();
  if (!/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$/.test(name)) throw invalidResourceName();
}

export const MAX_BLOB_NAME = 1024;

/** Blob names are case-sensitive, any characters, 1–1024 of them (after URL decoding). */
export function checkBlobName(name: string): void {
  if (name.length === 0 || name.length > MAX_BLOB_NAME) throw outOfRangeInput();
}

/** Metadata names must be valid C# identifiers; their case is kept as sent. */
const METADATA_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_METADATA_BYTES = 8 * 1024;

export function checkMetadata(metadata: Record<string, string>): void {
  let size = 0;
  const seen = new Set<string>();
  for (const [k, v] of Object.entries(metadata)) {
    if (!METADATA_NAME.test(k)) throw invalidMetadata();
    // Names are case-insensitive on the service side: two spellings of one name is a conflict.
    if (seen.has(k.toLowerCase())) throw invalidMetadata();
    seen.add(k.toLowerCase());
    size += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (size > MAX_METADATA_BYTES) throw storageError(400, 'MetadataTooLarge', 'The size of the specified metadata exceeds the maximum size permitted.');
}

/**
 * A block id: base64 whose decoded form is at most 64 bytes. Returns false rather than throwing so the caller
 * can report it as the query parameter it came in.
 */
export function isValidBlockId(id: string): boolean {
  if (id.length === 0 || id.length > 88 || !/^[A-Za-z0-9+/]*={0,2}$/.test(id) || id.length % 4 !== 0) return false;
  return Buffer.from(id, 'base64').length <= 64;
}
