import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { XMLParser } from 'fast-xml-parser';
import { blockListXml, errorXml, listBlobsXml, listContainersXml, parseBlockList, servicePropertiesXml, storageTime } from '../../../src/blob/xml.js';
import { isStorageError } from '../../../src/blob/errors.js';
import { GOLDEN_ERRORS, wire } from './golden-errors.js';

const golden = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../golden/blob/${name}.json`, import.meta.url), 'utf8'));
const parse = (xml: string) => new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false }).parse(xml);
const T = Date.parse('2026-01-02T03:04:05.678Z');

describe('Storage XML error bodies match the golden files', () => {
  it.each(GOLDEN_ERRORS)('%s', (name, make) => {
    const e = make();
    expect(isStorageError(e)).toBe(true);
    expect(wire(e)).toEqual(golden(name));
  });

  it('puts RequestId and a seven-digit Time in the Message, as Azure does', () => {
    const xml = errorXml('BlobNotFound', 'The specified blob does not exist.', [], 'rid', T);
    expect(xml).toBe(
      '<?xml version="1.0" encoding="utf-8"?><Error><Code>BlobNotFound</Code><Message>The specified blob does not exist.\nRequestId:rid\nTime:2026-01-02T03:04:05.6780000Z</Message></Error>',
    );
    expect(storageTime(T)).toBe('2026-01-02T03:04:05.6780000Z');
  });

  it('escapes what it carries', () => {
    const xml = errorXml('AuthenticationFailed', 'm', [['AuthenticationErrorDetail', "a<b>&'\""]], 'rid', T);
    expect(parse(xml).Error.AuthenticationErrorDetail).toBe("a<b>&'\"");
  });
});

describe('listings', () => {
  const blob = {
    kind: 'blob' as const,
    name: 'dir/a.txt',
    createdAt: T,
    lastModified: T,
    etag: '"0x8DE1"',
    size: 5,
    contentType: 'text/plain',
    contentEncoding: null,
    contentLanguage: null,
    contentMd5: 'XUFAKrxLKna5cZ2REBfFkg==',
    cacheControl: null,
    contentDisposition: null,
  };

  it('List Blobs: blobs and prefixes in order, bare ETag, echo of the query', () => {
    const xml = listBlobsXml({
      serviceEndpoint: 'https://acct.blob.keyless.localhost:8443/',
      container: 'c1',
      prefix: 'dir/',
      marker: undefined,
      maxResults: 2,
      delimiter: '/',
      entries: [blob, { kind: 'prefix', name: 'dir/sub/' }, { ...blob, name: 'bad\u0001name', metadata: { Project: 'k' } }],
      nextMarker: 'dir/z',
    });
    expect(xml.startsWith('<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="https://acct.blob.keyless.localhost:8443/" ContainerName="c1"><Prefix>dir/</Prefix><MaxResults>2</MaxResults><Delimiter>/</Delimiter><Blobs><Blob><Name>dir/a.txt</Name>')).toBe(true);
    expect(xml).toContain('<Etag>0x8DE1</Etag>');
    expect(xml).toContain('<Last-Modified>Fri, 02 Jan 2026 03:04:05 GMT</Last-Modified>');
    expect(xml).toContain('</Blob><BlobPrefix><Name>dir/sub/</Name></BlobPrefix><Blob>');
    // Names XML cannot carry go out URL-encoded, flagged.
    expect(xml).toContain('<Name Encoded="true">bad%01name</Name>');
    expect(xml).toContain('<Metadata><Project>k</Project></Metadata>');
    expect(xml.endsWith('<NextMarker>dir/z</NextMarker></EnumerationResults>')).toBe(true);
    const doc = parse(xml).EnumerationResults;
    expect(doc.Blobs.Blob[0].Properties['Content-Length']).toBe('5');
    expect(doc.Blobs.Blob[0].Properties.BlobType).toBe('BlockBlob');
  });

  it('List Containers: quoted ETag, empty NextMarker at the end', () => {
    const xml = listContainersXml({ serviceEndpoint: 'https://127.0.0.1:8443/acct/', containers: [{ name: 'c1', lastModified: T, etag: '"0x8DE1"' }], nextMarker: undefined });
    expect(xml).toContain('<Container><Name>c1</Name><Properties><Last-Modified>Fri, 02 Jan 2026 03:04:05 GMT</Last-Modified><Etag>');
    expect(parse(xml).EnumerationResults.Containers.Container.Properties.Etag).toBe('"0x8DE1"');
    expect(xml).not.toContain('<Prefix>');
    expect(xml.endsWith('<NextMarker></NextMarker></EnumerationResults>')).toBe(true);
  });

  it('Get Block List', () => {
    expect(blockListXml([{ name: 'QUFB', size: 3 }], [])).toBe(
      '<?xml version="1.0" encoding="utf-8"?><BlockList><CommittedBlocks><Block><Name>QUFB</Name><Size>3</Size></Block></CommittedBlocks><UncommittedBlocks></UncommittedBlocks></BlockList>',
    );
    expect(blockListXml(undefined, [{ name: 'QkJC', size: 1 }])).not.toContain('CommittedBlocks><Block');
  });

  it('service properties parse', () => {
    expect(parse(servicePropertiesXml()).StorageServiceProperties.DeleteRetentionPolicy.Enabled).toBe('false');
  });
});

describe('parseBlockList', () => {
  const body = (s: string) => Buffer.from(s);

  it('keeps document order across Committed/Uncommitted/Latest', () => {
    expect(
      parseBlockList(body('<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>AAA=</Latest><Committed>BBB=</Committed><Uncommitted>CCC=</Uncommitted><Latest>AAA=</Latest></BlockList>'), 10),
    ).toEqual([
      { list: 'Latest', id: 'AAA=' },
      { list: 'Committed', id: 'BBB=' },
      { list: 'Uncommitted', id: 'CCC=' },
      { list: 'Latest', id: 'AAA=' },
    ]);
  });

  it('accepts an empty list, whitespace and a BOM', () => {
    expect(parseBlockList(body('\uFEFF<BlockList>\n  <Latest> QUFB </Latest>\n</BlockList>'), 10)).toEqual([{ list: 'Latest', id: 'QUFB' }]);
    expect(parseBlockList(body('<BlockList/>'), 10)).toEqual([]);
  });

  it.each([
    ['not xml', '<BlockList><Latest>x</BlockList>'],
    ['wrong root', '<Blocks><Latest>x</Latest></Blocks>'],
    ['unknown element', '<BlockList><Newest>x</Newest></BlockList>'],
    ['a DTD', '<!DOCTYPE x [<!ENTITY a "aaaa">]><BlockList><Latest>&a;</Latest></BlockList>'],
  ])('refuses %s with InvalidXmlDocument', (_n, xml) => {
    try {
      parseBlockList(body(xml), 10);
      expect.unreachable();
    } catch (e) {
      expect(isStorageError(e) && (e as { code: string }).code).toBe('InvalidXmlDocument');
    }
  });

  it('refuses more entries than allowed', () => {
    expect(() => parseBlockList(body(`<BlockList>${'<Latest>QUFB</Latest>'.repeat(3)}</BlockList>`), 2)).toThrow();
  });
});
