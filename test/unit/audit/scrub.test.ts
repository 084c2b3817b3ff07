import { describe, expect, it } from 'vitest';
import { scrub, scrubText } from '../../../src/audit/scrub.js';

const JWT = 'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJvaWQiOiJ4IiwiYXVkIjoieSJ9.c2lnbmF0dXJlLWJ5dGVz';

describe('audit scrubbing', () => {
  it('removes JWTs wherever they appear', () => {
    expect(scrubText(`token ${JWT} end`)).toBe('token [redacted] end');
  });

  it('keeps the scheme of Authorization values but not the credential', () => {
    expect(scrubText(`Authorization: Bearer ${JWT.slice(0, 20)}abc`)).toBe('Authorization: Bearer [redacted]');
    expect(scrubText('SharedKey acct:AbCd+/ef==')).toBe('SharedKey acct:[redacted]');
    expect(scrubText('Basic dXNlcjpwYXNz')).toBe('Basic [redacted]');
  });

  it('redacts SAS signatures and OAuth form fields in URLs and bodies', () => {
    expect(scrubText('https://a.blob/c/b?sv=2024-01-01&sig=abc%2Fdef&se=2030')).toBe('https://a.blob/c/b?sv=2024-01-01&sig=[redacted]&se=2030');
    expect(scrubText('grant_type=client_credentials&client_secret=hunter2&scope=x')).toBe('grant_type=client_credentials&client_secret=[redacted]&scope=x');
    expect(scrubText('client_assertion=abc')).toBe('client_assertion=[redacted]');
    expect(scrubText('{"client_secret":"hunter2","value":"s3cret"}')).toBe('{"client_secret":"[redacted]","value":"[redacted]"}');
  });

  it('leaves ordinary text (ids, actions, messages) alone', () => {
    const s = "AADSTS7000215: Invalid client secret provided for app 'x' at /subscriptions/s/resourceGroups/rg — Microsoft.KeyVault/vaults/secrets/getSecret/action";
    expect(scrubText(s)).toBe(s);
  });

  it('redacts a string every time it is seen (only clean strings are remembered)', () => {
    const dirty = `failed: Bearer ${JWT}`;
    for (let i = 0; i < 3; i++) expect(scrubText(dirty)).toBe('failed: Bearer [redacted]');
    const cleanText = 'allowed: Key Vault Secrets User at /subscriptions/s';
    for (let i = 0; i < 3; i++) expect(scrubText(cleanText)).toBe(cleanText);
  });

  it('walks objects and arrays, dropping secret-named keys and undefined values', () => {
    const out = scrub({ a: [`x ${JWT}`], headers: { authorization: 'Bearer x', accept: 'json' }, client_secret: 's', n: 1, u: undefined });
    expect(out).toEqual({ a: ['x [redacted]'], headers: { authorization: '[redacted]', accept: 'json' }, client_secret: '[redacted]', n: 1 });
  });

  it('stops at a fixed depth (cycles cannot hang it)', () => {
    const cyc: Record<string, unknown> = {};
    cyc['self'] = cyc;
    expect(JSON.stringify(scrub(cyc))).toContain('[truncated]');
  });
});
