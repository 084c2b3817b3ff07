import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { invalidXmlDocument, type XmlExtras } from './errors.js';

/**
 * Storage XML, as the service writes it (element names and order from Azure's REST reference and captured
 * responses). Pure functions: the HTTP layer adds the request id and time.
 */

type Node = Record<string, unknown>;
const DECLARATION = '<?xml version="1.0" encoding="utf-8"?>';

const builder = new XMLBuilder({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '@_', suppressBooleanAttributes: false, suppressEmptyNode: false });

const el = (name: string, children: Node[] | string | number | boolean, attrs?: Record<string, string>): Node => {
  const node: Node = { [name]: Array.isArray(children) ? children : [{ '#text': String(children) }] };
  if (attrs) node[':@'] = Object.fromEntries(Object.entries(attrs).map(([k, v]) => [`@_${k}`, v]));
  return node;
};
const render = (root: Node): string => DECLARATION + builder.build([root]);

/** Azure's `<Time>` stamp: seven fractional digits, as .NET's round-trip format writes it. */
export const storageTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');

export function errorXml(code: string, message: string, extras: XmlExtras, requestId: string, timeMs: number): string {
  return render(el('Error', [el('Code', code), el('Message', `${message}\nRequestId:${requestId}\nTime:${storageTime(timeMs)}`), ...extras.map(([k, v]) => el(k, v))]));
}

// Characters XML 1.0 cannot carry (and CR, which parsers normalise away): such names go out URL-encoded.
// eslint-disable-next-line no-control-regex
const NOT_XML_SAFE = /[\u0000-\u0008\u000b\u000c\u000d\u000e-\u001f\ufffe\uffff]/;

function nameElement(name: string): Node {
  return NOT_XML_SAFE.test(name) ? el('Name', encodeURIComponent(name), { Encoded: 'true' }) : el('Name', name);
}

const httpDate = (ms: number): string => new Date(ms).toUTCString();

function metadataElement(metadata: Record<string, string>): Node {
  return el(
    'Metadata',
    Object.entries(metadata).map(([k, v]) => el(k, v)),
  );
}

export interface ListingEcho {
  prefix?: string | undefined;
  marker?: string | undefined;
  maxResults?: number | undefined;
}

function echo(e: ListingEcho & { delimiter?: string | undefined }): Node[] {
  const out: Node[] = [];
  if (e.prefix !== undefined) out.push(el('Prefix', e.prefix));
  if (e.marker !== undefined) out.push(el('Marker', e.marker));
  if (e.maxResults !== undefined) out.push(el('MaxResults', e.maxResults));
  if (e.delimiter !== undefined) out.push(el('Delimiter', e.delimiter));
  return out;
}

export interface ContainerListItem {
  name: string;
  lastModified: number;
  etag: string;
  metadata?: Record<string, string> | undefined;
}

export function listContainersXml(input: ListingEcho & { serviceEndpoint: string; containers: ContainerListItem[]; nextMarker: string | undefined }): string {
  return render(
    el(
      'EnumerationResults',
      [
        ...echo(input),
        el(
          'Containers',
          input.containers.map((c) =>
            el('Container', [
              nameElement(c.name),
              el('Properties', [
                el('Last-Modified', httpDate(c.lastModified)),
                el('Etag', c.etag),
                el('LeaseStatus', 'unlocked'),
                el('LeaseState', 'available'),
                el('DefaultEncryptionScope', '$account-encryption-key'),
                el('DenyEncryptionScopeOverride', false),
                el('HasImmutabilityPolicy', false),
                el('HasLegalHold', false),
                el('ImmutableStorageWithVersioningEnabled', false),
              ]),
              ...(c.metadata ? [metadataElement(c.metadata)] : []),
            ]),
          ),
        ),
        el('NextMarker', input.nextMarker ?? ''),
      ],
      { ServiceEndpoint: input.serviceEndpoint },
    ),
  );
}

export interface BlobListItem {
  kind: 'blob';
  name: string;
  createdAt: number;
  lastModified: number;
  etag: string;
  size: number;
  contentType: string | null;
  contentEncoding: string | null;
  contentLanguage: string | null;
  contentMd5: string | null;
  cacheControl: string | null;
  contentDisposition: string | null;
  metadata?: Record<string, string> | undefined;
}

export type ListEntry = BlobListItem | { kind: 'prefix'; name: string };

export function listBlobsXml(
  input: ListingEcho & { serviceEndpoint: string; container: string; delimiter: string | undefined; entries: ListEntry[]; nextMarker: string | undefined },
): string {
  const entries = input.entries.map((e) => {
    if (e.kind === 'prefix') return el('BlobPrefix', [nameElement(e.name)]);
    return el('Blob', [
      nameElement(e.name),
      el('Properties', [
        el('Creation-Time', httpDate(e.createdAt)),
        el('Last-Modified', httpDate(e.lastModified)),
        // List Blobs writes the ETag bare, unlike every header and List Containers.
        el('Etag', e.etag.replace(/"/g, '')),
        el('Content-Length', e.size),
        el('Content-Type', e.contentType ?? ''),
        el('Content-Encoding', e.contentEncoding ?? ''),
        el('Content-Language', e.contentLanguage ?? ''),
        el('Content-CRC64', ''),
        el('Content-MD5', e.contentMd5 ?? ''),
        el('Cache-Control', e.cacheControl ?? ''),
        el('Content-Disposition', e.contentDisposition ?? ''),
        el('BlobType', 'BlockBlob'),
        el('AccessTier', 'Hot'),
        el('AccessTierInferred', true),
        el('LeaseStatus', 'unlocked'),
        el('LeaseState', 'available'),
        el('ServerEncrypted', true),
      ]),
      ...(e.metadata ? [metadataElement(e.metadata)] : []),
    ]);
  });
  return render(
    el('EnumerationResults', [...echo(input), el('Blobs', entries), el('NextMarker', input.nextMarker ?? '')], {
      ServiceEndpoint: input.serviceEndpoint,
      ContainerName: input.container,
    }),
  );
}

export interface BlockInfo {
  name: string;
  size: number;
}

export function blockListXml(committed: BlockInfo[] | undefined, uncommitted: BlockInfo[] | undefined): string {
  const blocks = (list: BlockInfo[]) => list.map((b) => el('Block', [el('Name', b.name), el('Size', b.size)]));
  const children: Node[] = [];
  if (committed) children.push(el('CommittedBlocks', blocks(committed)));
  if (uncommitted) children.push(el('UncommittedBlocks', blocks(uncommitted)));
  return render(el('BlockList', children));
}

/** What Get Blob Service Properties reports: every optional feature off (Keyless has none of them). */
export function servicePropertiesXml(): string {
  const retention = el('RetentionPolicy', [el('Enabled', false)]);
  const metrics = (name: string) => el(name, [el('Version', '1.0'), el('Enabled', false), retention]);
  return render(
    el('StorageServiceProperties', [
      el('Logging', [el('Version', '1.0'), el('Read', false), el('Write', false), el('Delete', false), retention]),
      metrics('HourMetrics'),
      metrics('MinuteMetrics'),
      el('Cors', []),
      el('DeleteRetentionPolicy', [el('Enabled', false)]),
      el('StaticWebsite', [el('Enabled', false)]),
    ]),
  );
}

export type BlockListEntry = { list: 'Committed' | 'Uncommitted' | 'Latest'; id: string };

const parser = new XMLParser({ preserveOrder: true, ignoreAttributes: true, parseTagValue: false, trimValues: true, processEntities: false });

/** Put Block List's body. Order matters (it is the blob's block order), so the parse keeps document order. */
export function parseBlockList(body: Buffer, maxEntries: number): BlockListEntry[] {
  const text = body.toString('utf8').replace(/^\uFEFF/, '');
  // No DTDs: block lists never need one, and entity expansion is a denial-of-service vector.
  if (/<!DOCTYPE/i.test(text) || XMLValidator.validate(text) !== true) throw invalidXmlDocument();
  let doc: Node[];
  try {
    doc = parser.parse(text) as Node[];
  } catch {
    throw invalidXmlDocument();
  }
  const root = doc.find((n) => Object.keys(n).some((k) => k === 'BlockList'));
  if (!root) throw invalidXmlDocument();
  const out: BlockListEntry[] = [];
  for (const child of root['BlockList'] as Node[]) {
    const name = Object.keys(child).find((k) => k !== ':@');
    if (name === undefined || name === '#text') continue;
    if (name !== 'Committed' && name !== 'Uncommitted' && name !== 'Latest') throw invalidXmlDocument();
    const inner = child[name] as Node[];
    const id = inner.map((t) => (typeof t['#text'] === 'string' ? t['#text'] : '')).join('');
    out.push({ list: name, id });
    if (out.length > maxEntries) throw invalidXmlDocument();
  }
  return out;
}
