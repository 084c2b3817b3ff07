import { describe, expect, it } from 'vitest';
import { routeKeyVault } from '../../../src/keyvault/route.js';

describe('Key Vault routes', () => {
  it.each([
    ['GET', '/secrets', { op: 'list' }],
    ['GET', '/secrets/', { op: 'list' }],
    ['PUT', '/secrets/s1', { op: 'set', name: 's1' }],
    ['GET', '/secrets/s1/', { op: 'get', name: 's1' }],
    ['GET', '/Secrets/s1', { op: 'get', name: 's1' }],
    ['GET', '//secrets/s1', { op: 'get', name: 's1' }],
    ['GET', '/secrets/s1/0123abcd', { op: 'get', name: 's1', version: '0123abcd' }],
    ['PATCH', '/secrets/s1/0123abcd', { op: 'update', name: 's1', version: '0123abcd' }],
    ['PATCH', '/secrets/s1', { op: 'update', name: 's1' }],
    ['DELETE', '/secrets/s1', { op: 'delete', name: 's1' }],
    ['GET', '/secrets/s1/versions', { op: 'listVersions', name: 's1' }],
    ['POST', '/secrets/s1/backup', { op: 'backup', name: 's1' }],
    ['POST', '/secrets/restore', { op: 'restore' }],
    ['GET', '/secrets/restore', { op: 'get', name: 'restore' }],
    ['GET', '/deletedsecrets', { op: 'listDeleted' }],
    ['GET', '/deletedsecrets/s1', { op: 'getDeleted', name: 's1' }],
    ['DELETE', '/deletedsecrets/s1', { op: 'purge', name: 's1' }],
    ['POST', '/deletedsecrets/s1/recover', { op: 'recover', name: 's1' }],
    ['GET', '/keys/k1', { op: 'unsupported', collection: 'keys' }],
    ['GET', '/certificates', { op: 'unsupported', collection: 'certificates' }],
    ['GET', '/', { op: 'notFound' }],
    ['POST', '/secrets', { op: 'notFound' }],
    ['GET', '/secrets/a/b/c', { op: 'notFound' }],
  ])('%s %s', (method, path, expected) => {
    expect(routeKeyVault(method, path)).toEqual(expected);
  });

  it('decodes names and reports undecodable paths', () => {
    expect(routeKeyVault('GET', '/secrets/my%2Dsecret')).toEqual({ op: 'get', name: 'my-secret' });
    expect(routeKeyVault('GET', '/secrets/%E0%A4%A')).toBeUndefined();
  });
});
