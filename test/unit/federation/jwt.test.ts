import { describe, expect, it } from 'vitest';
import { audiences, decodeJwt, MalformedJwtError, MAX_ASSERTION_CHARS } from '../../../src/federation/jwt.js';

const seg = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('decoding client assertions', () => {
  it('splits header, payload and signature; trims the whitespace a token file may end with', () => {
    const d = decodeJwt(`${seg({ alg: 'RS256' })}.${seg({ iss: 'i' })}.c2ln\n`);
    expect(d.header).toEqual({ alg: 'RS256' });
    expect(d.payload).toEqual({ iss: 'i' });
    expect(d.signature.toString()).toBe('sig');
  });

  it.each([
    ['empty', ''],
    ['two segments', `${seg({})}.${seg({})}`],
    ['four segments', `${seg({})}.${seg({})}.a.b`],
    ['non-base64url characters', `${seg({})}.${seg({})}.a+b`],
    ['a header that is not JSON', `${Buffer.from('{').toString('base64url')}.${seg({})}.a`],
    ['a payload that is an array', `${seg({})}.${seg([1])}.a`],
    ['an empty header', `.${seg({})}.a`],
    ['too long', `${seg({})}.${'a'.repeat(MAX_ASSERTION_CHARS)}.a`],
  ])('refuses %s', (_c, t) => expect(() => decodeJwt(t)).toThrow(MalformedJwtError));

  it('reads aud as a string or a list of strings', () => {
    expect(audiences({ aud: 'a' })).toEqual(['a']);
    expect(audiences({ aud: ['a', 1, 'b'] })).toEqual(['a', 'b']);
    expect(audiences({})).toEqual([]);
  });
});
