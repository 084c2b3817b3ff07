import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ensurePki } from '../../../src/pki/index.js';
import { tempDir } from './helpers.js';
import { requiredSans, sameSans, sanNamesOf, sanSetOf } from '../../../src/pki/names.js';

describe('reading certificate names with node:crypto', () => {
  it('parses DNS and IP entries, in both IP spellings', () => {
    expect(sanNamesOf('DNS:localhost, DNS:*.vault.keyless.localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1')).toEqual([
      { type: 'dns', value: 'localhost' },
      { type: 'dns', value: '*.vault.keyless.localhost' },
      { type: 'ip', value: '127.0.0.1' },
      { type: 'ip', value: '0:0:0:0:0:0:0:1' },
    ]);
    expect(sanNamesOf(undefined)).toEqual([]);
  });

  it('keeps an entry it does not know whole, so the set differs from any requirement', () => {
    const names = sanNamesOf('DNS:localhost, email:a@b.example');
    expect(names[1]).toEqual({ type: 'other', value: 'email:a@b.example' });
    expect(sanSetOf(names).dns).toContain('other:email:a@b.example');
  });

  it('a server certificate made for the required names reads back as exactly those names', async () => {
    const opts = { dnsSuffix: 'keyless.localhost', extraIps: ['10.0.0.5', 'fd00::1'] };
    const m = await ensurePki({ dir: tempDir(), ...opts, systemCaFiles: [] });
    const read = sanSetOf(sanNamesOf(new X509Certificate(m.certPem).subjectAltName));
    expect(sameSans(read, requiredSans(opts))).toBe(true);
    expect(read.ips).toEqual(expect.arrayContaining(['::1', 'fd00::1', '10.0.0.5']));
  });
});
