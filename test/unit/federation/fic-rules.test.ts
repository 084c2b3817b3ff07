import { describe, expect, it } from 'vitest';
import { checkAgainstSiblings, ficFromDocument, parseFicProperties, validateFicName, type FicRecord } from '../../../src/federation/fic-rules.js';
import type { KeylessError } from '../../../src/core/errors.js';

const ok = { issuer: 'https://oidc.example.com/tenant/abc/', subject: 'system:serviceaccount:ns:sa', audiences: ['api://AzureADTokenExchange'] };
const props = (p: Record<string, unknown>) => ({ properties: { ...ok, ...p } });

function failure(fn: () => unknown): KeylessError {
  try {
    fn();
  } catch (e) {
    return e as KeylessError;
  }
  throw new Error('expected a failure');
}

describe('FIC names', () => {
  it.each(['abc', 'a-_', 'A1b2', 'x'.repeat(120), '0ab', 'my_fic-1'])('accepts %s', (n) => expect(() => validateFicName(n)).not.toThrow());
  it.each(['ab', '', '-ab', '_ab', 'a.b', 'a b', 'x'.repeat(121), 'ab/c', 'äbc'])('refuses %j with BadRequest', (n) => {
    const e = failure(() => validateFicName(n));
    expect(e.status).toBe(400);
    expect(e.code).toBe('BadRequest');
    expect(e.message).toBe(`Federated Identity Credential name '${n}' is invalid.`);
  });
});

describe('FIC properties', () => {
  it('keeps a valid credential exactly as sent', () => {
    expect(parseFicProperties(props({}))).toEqual(ok);
  });

  it('defaults an omitted audience list to api://AzureADTokenExchange', () => {
    expect(parseFicProperties({ properties: { issuer: ok.issuer, subject: ok.subject } }).audiences).toEqual(['api://AzureADTokenExchange']);
  });

  it('accepts an issuer of exactly 600 characters and a 600-character subject', () => {
    const issuer = `https://i.example.com/${'a'.repeat(600 - 'https://i.example.com/'.length)}`;
    expect(issuer.length).toBe(600);
    expect(parseFicProperties(props({ issuer, subject: 's'.repeat(600) })).issuer).toBe(issuer);
  });

  it.each<[string, unknown, RegExp]>([
    ['no body', undefined, /empty properties/],
    ['empty properties', { properties: {} }, /empty properties/],
    ['properties not an object', { properties: 'x' }, /empty properties/],
    ['no issuer', { properties: { subject: 's' } }, /must specify 'issuer', 'subject' and 'audience'/],
    ['empty subject', props({ subject: '' }), /must specify/],
    ['numeric subject', props({ subject: 42 }), /must specify/],
    ['http issuer', props({ issuer: 'http://oidc.example.com' }), /https scheme/],
    ['relative issuer', props({ issuer: '/tenant' }), /not a valid URL/],
    ['issuer with a query', props({ issuer: 'https://oidc.example.com/?a=1' }), /query/],
    ['issuer with user info', props({ issuer: 'https://u:p@oidc.example.com/' }), /user information/],
    ['issuer with trailing space', props({ issuer: 'https://oidc.example.com ' }), /whitespace/],
    ['issuer with leading tab', props({ issuer: '\thttps://oidc.example.com' }), /whitespace/],
    ['issuer of 601 characters', props({ issuer: `https://i.example.com/${'a'.repeat(579)}` }), /600/],
    ['wildcard issuer', props({ issuer: 'https://*.example.com' }), /Wildcard/],
    ['subject of 601 characters', props({ subject: 's'.repeat(601) }), /600/],
    ['subject with trailing newline', props({ subject: 'sub\n' }), /whitespace/],
    ['wildcard subject', props({ subject: 'repo:org/*:ref:refs/heads/main' }), /Wildcard/],
    ['two audiences', props({ audiences: ['a', 'b'] }), /exactly 1 audience/],
    ['empty audience list', props({ audiences: [] }), /exactly 1 audience/],
    ['audience not a list', props({ audiences: 'api://AzureADTokenExchange' }), /exactly 1 audience/],
    ['blank audience', props({ audiences: ['  '] }), /exactly 1 audience/],
    ['audience with whitespace', props({ audiences: [' api://AzureADTokenExchange'] }), /whitespace/],
    ['audience of 601 characters', props({ audiences: ['a'.repeat(601)] }), /600/],
    ['claims-matching expression', props({ claimsMatchingExpression: { value: 'x', languageVersion: 1 } }), /claimsMatchingExpression/],
  ])('refuses %s with 400 BadRequest', (_case, body, message) => {
    const e = failure(() => parseFicProperties(body));
    expect(e.status).toBe(400);
    expect(e.code).toBe('BadRequest');
    expect(e.message).toMatch(message);
  });
});

describe('FIC rules across an identity', () => {
  const rec = (name: string, issuer: string, subject: string): FicRecord => ({ name, properties: { issuer, subject, audiences: ['api://AzureADTokenExchange'] } });
  const base = { issuer: 'https://i.example.com', subject: 'a', audiences: ['api://AzureADTokenExchange'] as [string] };

  it('refuses a second credential with the same issuer and subject (Conflict), but not the same one re-PUT', () => {
    const siblings = [rec('one', 'https://i.example.com', 'a')];
    const e = failure(() => checkAgainstSiblings(siblings, 'two', base));
    expect(e.status).toBe(400);
    expect(e.code).toBe('Conflict');
    expect(() => checkAgainstSiblings(siblings, 'ONE', base)).not.toThrow();
  });

  it('compares issuer and subject exactly: case and trailing slash make a different pair', () => {
    const siblings = [rec('one', 'https://i.example.com', 'a')];
    expect(() => checkAgainstSiblings(siblings, 'two', { ...base, subject: 'A' })).not.toThrow();
    expect(() => checkAgainstSiblings(siblings, 'two', { ...base, issuer: 'https://i.example.com/' })).not.toThrow();
  });

  it('allows 20 per identity and refuses the 21st; replacing one of 20 is fine', () => {
    const twenty = Array.from({ length: 20 }, (_, i) => rec(`fic${i}`, 'https://i.example.com', `s${i}`));
    expect(() => checkAgainstSiblings(twenty.slice(0, 19), 'new', base)).not.toThrow();
    const e = failure(() => checkAgainstSiblings(twenty, 'new', base));
    expect(e.code).toBe('BadRequest');
    expect(e.message).toMatch(/\(20\)/);
    expect(() => checkAgainstSiblings(twenty, 'fic3', { ...base, subject: 's3' })).not.toThrow();
  });

  it('reads stored documents back, and ignores ones that are not credentials', () => {
    expect(ficFromDocument({ name: 'x', properties: { ...ok } })).toEqual({ name: 'x', properties: ok });
    expect(ficFromDocument({ name: 'x', properties: { issuer: 'i' } })).toBeUndefined();
    expect(ficFromDocument({ name: 'x' })).toBeUndefined();
  });
});
