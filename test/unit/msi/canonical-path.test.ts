import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalPath } from '../../../src/msi/imds.js';
import { imdsAddressFor } from '../../../src/msi/listeners.js';

describe('IMDS path canonicalization', () => {
  it.each([
    ['/metadata/identity/oauth2/token', '/metadata/identity/oauth2/token'],
    ['/metadata/identity/oauth2/token/', '/metadata/identity/oauth2/token'],
    ['//metadata/identity/oauth2/token/', '/metadata/identity/oauth2/token'],
    ['/METADATA/IDENTITY/OAUTH2/TOKEN', '/metadata/identity/oauth2/token'],
  ])('%s → %s', (input, expected) => expect(canonicalPath(input)).toBe(expected));

  it.each(['/metadata/identity/%2e%2e/token', '/metadata/identity/../oauth2/token', '/metadata\\identity', '/metadata//identity/oauth2/token', '/metadata/./identity'])(
    'refuses %s',
    (input) => expect(canonicalPath(input)).toBeUndefined(),
  );

  it('never yields a path containing dot segments, backslashes or percent signs (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('metadata', 'identity', '..', '.', '%2e', '\\', '', 'TOKEN', 'oauth2'), { maxLength: 8 }), (segs) => {
        const out = canonicalPath('/' + segs.join('/'));
        if (out !== undefined) {
          expect(out).not.toMatch(/%|\\|\/\.\.?(\/|$)|\/\//);
        }
      }),
    );
  });

  it('gives each VM number its own loopback address and refuses the end of the range', () => {
    expect(imdsAddressFor(1)).toBe('127.77.0.1');
    expect(imdsAddressFor(256)).toBe('127.77.1.0');
    expect(new Set([1, 2, 255, 256, 257].map(imdsAddressFor)).size).toBe(5);
    expect(() => imdsAddressFor(0)).toThrow();
    expect(() => imdsAddressFor(70_000)).toThrow();
  });
});
