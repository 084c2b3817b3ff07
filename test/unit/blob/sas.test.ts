import { describe, it, expect } from 'vitest';
import {
  AccountSASPermissions,
  BlobSASPermissions,
  ContainerSASPermissions,
  SASProtocol,
  StorageSharedKeyCredential,
  generateAccountSASQueryParameters,
  generateBlobSASQueryParameters,
} from '@azure/storage-blob';
import { checkSasPermission, ipInRange, parseSas, verifySas, type SasParams } from '../../../src/blob/auth/sas.js';
import { OPERATIONS, type OperationName } from '../../../src/blob/operations.js';
import { Query } from '../../../src/blob/query.js';
import { KeylessError } from '../../../src/core/errors.js';

const KEY = Buffer.from(Array.from({ length: 64 }, (_, i) => 255 - i));
const cred = new StorageSharedKeyCredential('myacct', KEY.toString('base64'));
const keys = [
  { keyName: 'key1', value: Buffer.alloc(64, 1) },
  { keyName: 'key2', value: KEY },
];
const NOW = Date.parse('2026-03-01T12:00:00Z');
const ctx = { nowMs: NOW, remoteAddress: '::ffff:127.0.0.1', protocol: 'https' as const };
const hourAgo = new Date(NOW - 3600_000);
const inAnHour = new Date(NOW + 3600_000);

const parsed = (qs: string): SasParams => parseSas(new Query(qs))!;
const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KeylessError);
    return `${(e as KeylessError).status} ${(e as KeylessError).code}`;
  }
  return 'ok';
};

describe('service SAS signed by @azure/storage-blob', () => {
  it.each(['2026-04-06', '2020-12-06', '2019-12-12', '2018-11-09', '2017-11-09', '2015-04-05'])('verifies a blob SAS of service version %s', (version) => {
    const qs = generateBlobSASQueryParameters(
      { containerName: 'c1', blobName: 'dir/a b.txt', permissions: BlobSASPermissions.parse('r'), startsOn: hourAgo, expiresOn: inAnHour, version, protocol: SASProtocol.Https },
      cred,
    ).toString();
    const p = parsed(qs);
    expect(p.kind).toBe('service');
    expect(verifySas(p, { account: 'myacct', container: 'c1', blob: 'dir/a b.txt' }, keys, ctx)).toEqual({ keyName: 'key2' });
    // The signature names the blob: it does not open another one.
    expect(code(() => verifySas(p, { account: 'myacct', container: 'c1', blob: 'other.txt' }, keys, ctx))).toBe('403 AuthenticationFailed');
  });

  it('a container SAS covers every blob in its container, and nothing in another', () => {
    const p = parsed(generateBlobSASQueryParameters({ containerName: 'c1', permissions: ContainerSASPermissions.parse('rl'), expiresOn: inAnHour }, cred).toString());
    expect(p.sr).toBe('c');
    expect(verifySas(p, { account: 'myacct', container: 'c1', blob: 'any/blob' }, keys, ctx).keyName).toBe('key2');
    expect(verifySas(p, { account: 'myacct', container: 'c1', blob: undefined }, keys, ctx).keyName).toBe('key2');
    expect(code(() => verifySas(p, { account: 'myacct', container: 'c2', blob: 'x' }, keys, ctx))).toBe('403 AuthenticationFailed');
  });

  it('signs response header overrides', () => {
    const p = parsed(
      generateBlobSASQueryParameters({ containerName: 'c1', blobName: 'b', permissions: BlobSASPermissions.parse('r'), expiresOn: inAnHour, contentType: 'text/csv', contentDisposition: 'attachment' }, cred).toString(),
    );
    expect(p.rsct).toBe('text/csv');
    expect(verifySas(p, { account: 'myacct', container: 'c1', blob: 'b' }, keys, ctx).keyName).toBe('key2');
    const forged = { ...p, rsct: 'text/html' };
    expect(code(() => verifySas(forged, { account: 'myacct', container: 'c1', blob: 'b' }, keys, ctx))).toBe('403 AuthenticationFailed');
  });
});

describe('account SAS signed by @azure/storage-blob', () => {
  const make = (over: Partial<Parameters<typeof generateAccountSASQueryParameters>[0]> = {}) =>
    parsed(
      generateAccountSASQueryParameters(
        { expiresOn: inAnHour, permissions: AccountSASPermissions.parse('rwdlac'), services: 'b', resourceTypes: 'sco', ...over },
        cred,
      ).toString(),
    );

  it.each(['2026-04-06', '2020-12-06', '2019-02-02'])('verifies version %s', (version) => {
    const p = make({ version });
    expect(p.kind).toBe('account');
    expect(verifySas(p, { account: 'myacct', container: undefined, blob: undefined }, keys, ctx).keyName).toBe('key2');
    expect(code(() => verifySas(p, { account: 'other', container: undefined, blob: undefined }, keys, ctx))).toBe('403 AuthenticationFailed');
  });

  it('reports the string to sign when the signature is wrong (as Azure does)', () => {
    const p = { ...make(), sig: Buffer.alloc(32).toString('base64') };
    try {
      verifySas(p, { account: 'myacct', container: undefined, blob: undefined }, keys, ctx);
      expect.unreachable();
    } catch (e) {
      const xml = (e as KeylessError).extra['xml'] as [string, string][];
      expect(xml[0]![0]).toBe('AuthenticationErrorDetail');
      expect(xml[0]![1]).toMatch(/^Signature did not match\. String to sign used was myacct\nrwdlac\nb\nsco\n/);
    }
  });

  it('enforces the time window', () => {
    const expired = make({ startsOn: new Date(NOW - 7200_000), expiresOn: hourAgo });
    expect(code(() => verifySas(expired, { account: 'myacct', container: undefined, blob: undefined }, keys, ctx))).toBe('403 AuthenticationFailed');
    const future = make({ startsOn: inAnHour, expiresOn: new Date(NOW + 7200_000) });
    expect(code(() => verifySas(future, { account: 'myacct', container: undefined, blob: undefined }, keys, ctx))).toBe('403 AuthenticationFailed');
  });

  it('enforces source IP and protocol', () => {
    const ip = make({ ipRange: { start: '10.0.0.1', end: '10.0.0.9' } });
    expect(code(() => verifySas(ip, { account: 'myacct', container: undefined, blob: undefined }, keys, ctx))).toBe('403 AuthorizationSourceIPMismatch');
    const local = make({ ipRange: { start: '127.0.0.1' } });
    expect(code(() => verifySas(local, { account: 'myacct', container: undefined, blob: undefined }, keys, ctx))).toBe('ok');
    const httpsOnly = make({ protocol: SASProtocol.Https });
    expect(code(() => verifySas(httpsOnly, { account: 'myacct', container: undefined, blob: undefined }, keys, { ...ctx, protocol: 'http' }))).toBe('403 AuthorizationProtocolMismatch');
  });
});

describe('parseSas', () => {
  it('is undefined without sig, and refuses incomplete signatures', () => {
    expect(parseSas(new Query('restype=container'))).toBeUndefined();
    expect(code(() => parseSas(new Query('sig=x&sp=r&se=2030-01-01')))).toBe('403 AuthenticationFailed');
    expect(code(() => parseSas(new Query('sig=x&sv=2020-12-06&sp=r&se=2030-01-01')))).toBe('403 AuthenticationFailed');
    expect(code(() => parseSas(new Query('sig=x&sv=2020-12-06&ss=b&sp=r&se=2030-01-01')))).toBe('403 AuthenticationFailed');
  });

  it('turns a form-decoded + back into +', () => {
    expect(parseSas(new Query('sv=2020-12-06&sr=c&sp=r&se=2030-01-01&sig=ab cd'))!.sig).toBe('ab+cd');
  });

  it('refuses user-delegation SAS and stored access policies', () => {
    const udk = parsed('sv=2020-12-06&sr=b&sp=r&se=2030-01-01&skoid=x&sktid=y&sig=abc');
    expect(code(() => verifySas(udk, { account: 'a', container: 'c', blob: 'b' }, keys, ctx))).toBe('403 AuthenticationFailed');
    const si = parsed('sv=2020-12-06&sr=c&si=policy1&sig=abc');
    expect(code(() => verifySas(si, { account: 'a', container: 'c', blob: undefined }, keys, ctx))).toBe('403 AuthenticationFailed');
  });
});

describe('permissions per operation', () => {
  const account = (sp: string, srt = 'sco', ss = 'b') => parsed(`sv=2020-12-06&ss=${ss}&srt=${srt}&sp=${sp}&se=2030-01-01&sig=x`);
  const service = (sp: string, sr = 'b') => parsed(`sv=2020-12-06&sr=${sr}&sp=${sp}&se=2030-01-01&sig=x`);
  const check = (p: SasParams, op: OperationName, exists = true) => code(() => checkSasPermission(p, OPERATIONS[op], exists));

  it.each<[string, () => SasParams, OperationName, boolean, string]>([
    ['account r reads a blob', () => account('r'), 'GetBlob', true, 'ok'],
    ['account r cannot write', () => account('r'), 'PutBlob', true, '403 AuthorizationPermissionMismatch'],
    ['account c creates a new blob', () => account('c'), 'PutBlob', false, 'ok'],
    ['account c cannot overwrite', () => account('c'), 'PutBlob', true, '403 AuthorizationPermissionMismatch'],
    ['account w overwrites', () => account('w'), 'PutBlob', true, 'ok'],
    ['account l lists containers', () => account('l', 's'), 'ListContainers', true, 'ok'],
    ['srt=o cannot list containers', () => account('rl', 'o'), 'ListContainers', true, '403 AuthorizationResourceTypeMismatch'],
    ['srt=c cannot read blobs', () => account('r', 'c'), 'GetBlob', true, '403 AuthorizationResourceTypeMismatch'],
    ['ss without b', () => account('r', 'sco', 'qt'), 'GetBlob', true, '403 AuthorizationServiceMismatch'],
    ['account c creates containers', () => account('c', 'c'), 'CreateContainer', false, 'ok'],
    ['account d deletes blobs', () => account('d'), 'DeleteBlob', true, 'ok'],
    ['service r reads', () => service('r'), 'GetBlob', true, 'ok'],
    ['service r cannot delete', () => service('r'), 'DeleteBlob', true, '403 AuthorizationPermissionMismatch'],
    ['service w stages blocks', () => service('w'), 'PutBlock', true, 'ok'],
    ['account c stages blocks of a new blob', () => account('c'), 'PutBlock', false, 'ok'],
    ['account c cannot stage blocks of an existing blob', () => account('c'), 'PutBlock', true, '403 AuthorizationPermissionMismatch'],
    ['service c commits a new block list', () => service('c'), 'PutBlockList', false, 'ok'],
    ['container l lists blobs', () => service('l', 'c'), 'ListBlobs', true, 'ok'],
    ['service SAS never creates containers', () => service('racwdl', 'c'), 'CreateContainer', false, '403 AuthorizationResourceTypeMismatch'],
    ['service SAS never lists containers', () => service('racwdl', 'c'), 'ListContainers', true, '403 AuthorizationResourceTypeMismatch'],
  ])('%s', (_name, p, op, exists, want) => expect(check(p(), op, exists)).toBe(want));
});

describe('ipInRange', () => {
  it.each<[string | undefined, string, boolean]>([
    ['127.0.0.1', '127.0.0.1', true],
    ['::ffff:127.0.0.1', '127.0.0.0-127.0.0.255', true],
    ['10.0.0.10', '10.0.0.1-10.0.0.9', false],
    ['::1', '127.0.0.1', false],
    [undefined, '127.0.0.1', false],
    ['127.0.0.1', 'not-an-ip', false],
  ])('%s in %s → %s', (ip, range, want) => expect(ipInRange(ip, range)).toBe(want));
});
