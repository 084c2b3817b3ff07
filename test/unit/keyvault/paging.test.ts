import { describe, expect, it } from 'vitest';
import { decodeSkipToken, encodeSkipToken, nextLink, PagingError, parseMaxResults } from '../../../src/keyvault/paging.js';

describe('Key Vault paging', () => {
  it('maxresults defaults to 25 and must be 1–25', () => {
    expect(parseMaxResults(undefined)).toBe(25);
    expect(parseMaxResults('1')).toBe(1);
    expect(parseMaxResults('25')).toBe(25);
    for (const bad of ['0', '26', '-1', '2.5', 'ten']) expect(() => parseMaxResults(bad)).toThrow(PagingError);
  });

  it('skip tokens round-trip and are URL-safe', () => {
    for (const key of ['a', 'secret-name', '42', 'ü/+=']) {
      const t = encodeSkipToken(key);
      expect(t).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeSkipToken(t)).toBe(key);
    }
    expect(decodeSkipToken(undefined)).toBeUndefined();
    expect(decodeSkipToken('')).toBeUndefined();
  });

  it('refuses tokens it did not issue', () => {
    expect(() => decodeSkipToken('bm9wZQ')).toThrow(PagingError);
    expect(() => decodeSkipToken('not a token!')).toThrow(PagingError);
  });

  it('writes nextLink as Key Vault does, null on the last page', () => {
    expect(nextLink('https://kv.vault.x:8443', '/secrets', '7.4', undefined, 25, false)).toBeNull();
    const link = nextLink('https://kv.vault.x:8443', '/secrets', '7.4', 'b', 2, true)!;
    const u = new URL(link);
    expect(u.origin + u.pathname).toBe('https://kv.vault.x:8443/secrets');
    expect(link).toContain('&$skiptoken=');
    expect(u.searchParams.get('api-version')).toBe('7.4');
    expect(u.searchParams.get('maxresults')).toBe('2');
    expect(decodeSkipToken(u.searchParams.get('$skiptoken')!)).toBe('b');
  });
});
