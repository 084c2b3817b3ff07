import { describe, it, expect } from 'vitest';
import { identifyOperation, type Level } from '../../../src/blob/operations.js';
import { Query } from '../../../src/blob/query.js';
import { KeylessError } from '../../../src/core/errors.js';

const id = (method: string, level: Level, qs: string, headers: Record<string, string> = {}): string => {
  try {
    return identifyOperation(method, level, new Query(qs), headers).name;
  } catch (e) {
    return `${(e as KeylessError).status} ${(e as KeylessError).code}`;
  }
};

describe('identifyOperation', () => {
  it.each<[string, Level, string, Record<string, string>, string]>([
    ['GET', 'service', 'comp=list', {}, 'ListContainers'],
    ['GET', 'service', 'restype=service&comp=properties', {}, 'GetServiceProperties'],
    ['GET', 'service', 'restype=account&comp=properties', {}, 'GetAccountInformation'],
    ['GET', 'service', '', {}, '400 InvalidQueryParameterValue'],
    ['GET', 'service', 'comp=userdelegationkey', {}, '501 NotImplemented'],
    ['PUT', 'container', 'restype=container', {}, 'CreateContainer'],
    ['DELETE', 'container', 'restype=container', {}, 'DeleteContainer'],
    ['GET', 'container', 'restype=container', {}, 'GetContainerProperties'],
    ['HEAD', 'container', 'restype=container', {}, 'GetContainerProperties'],
    ['GET', 'container', 'restype=container&comp=metadata', {}, 'GetContainerProperties'],
    ['PUT', 'container', 'restype=container&comp=metadata', {}, 'SetContainerMetadata'],
    ['GET', 'container', 'restype=container&comp=list&prefix=a', {}, 'ListBlobs'],
    ['GET', 'container', 'RESTYPE=container&Comp=list', {}, 'ListBlobs'],
    ['PUT', 'container', 'restype=container&comp=acl', {}, '501 NotImplemented'],
    ['GET', 'container', '', {}, '400 InvalidUri'],
    ['PUT', 'blob', '', { 'x-ms-blob-type': 'BlockBlob' }, 'PutBlob'],
    ['PUT', 'blob', '', {}, '400 MissingRequiredHeader'],
    ['PUT', 'blob', '', { 'x-ms-blob-type': 'PageBlob' }, '501 NotImplemented'],
    ['PUT', 'blob', '', { 'x-ms-blob-type': 'BlockBlob', 'x-ms-copy-source': 'https://x' }, '501 NotImplemented'],
    ['GET', 'blob', '', {}, 'GetBlob'],
    ['HEAD', 'blob', '', {}, 'GetBlobProperties'],
    ['DELETE', 'blob', '', {}, 'DeleteBlob'],
    ['PUT', 'blob', 'comp=metadata', {}, 'SetBlobMetadata'],
    ['GET', 'blob', 'comp=metadata', {}, 'GetBlobMetadata'],
    ['PUT', 'blob', 'comp=properties', {}, 'SetBlobProperties'],
    ['PUT', 'blob', 'comp=block&blockid=QUFB', {}, 'PutBlock'],
    ['PUT', 'blob', 'comp=blocklist', {}, 'PutBlockList'],
    ['GET', 'blob', 'comp=blocklist&blocklisttype=all', {}, 'GetBlockList'],
    ['PUT', 'blob', 'comp=lease', {}, '501 NotImplemented'],
    ['GET', 'blob', 'snapshot=2026-01-01T00:00:00Z', {}, '501 NotImplemented'],
    ['POST', 'blob', '', {}, '405 UnsupportedHttpVerb'],
    ['OPTIONS', 'container', 'restype=container', {}, '405 UnsupportedHttpVerb'],
    ['GET', 'blob', 'comp=bogus', {}, '400 InvalidQueryParameterValue'],
  ])('%s %s ?%s', (method, level, qs, headers, want) => expect(id(method, level, qs, headers)).toBe(want));
});
