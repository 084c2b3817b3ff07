import fs from 'node:fs';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ensurePki, issueCertificate, pkiFiles } from '../../../src/pki/index.js';
import { mode, tempDir } from './helpers.js';

const DAY = 24 * 3600 * 1000;
const sansOf = (pem: string): string => new X509Certificate(pem).subjectAltName ?? '';
const noSystemCas = { systemCaFiles: [] as string[] };

describe('ensurePki: first start', () => {
  it('creates a CA and a leaf with the documented extensions and names', async () => {
    const dir = path.join(tempDir(), 'tls');
    const m = await ensurePki({ dir, dnsSuffix: 'Example.Test', extraDnsNames: ['kl.internal'], extraIps: ['10.0.0.7'], ...noSystemCas });
    const ca = new X509Certificate(m.caCertPem);
    const leaf = new X509Certificate(m.certPem);

    expect(m.caCreated).toBe(true);
    expect(m.leafIssuedBecause).toBe('missing');
    expect(m.warnings).toEqual([]);
    expect(ca.ca).toBe(true);
    expect(ca.subject).toMatch(/^CN=Keyless Local CA [0-9a-f]{8}$/m);
    expect(ca.publicKey.asymmetricKeyType).toBe('rsa');
    expect(ca.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(Date.parse(ca.validTo) - Date.now()).toBeGreaterThan(9.9 * 365 * DAY);
    expect(m.caFingerprintSha256).toBe(ca.fingerprint256);

    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(ca) && leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // EKU serverAuth
    expect(Date.parse(leaf.validTo) - Date.now()).toBeLessThanOrEqual(397 * DAY);
    expect(m.leafNotAfter.getTime()).toBe(Date.parse(leaf.validTo));
    const san = sansOf(m.certPem);
    for (const want of [
      'DNS:localhost',
      'DNS:*.localhost',
      'DNS:example.test',
      'DNS:*.example.test',
      'DNS:*.vault.example.test',
      'DNS:*.blob.example.test',
      'DNS:management.example.test',
      'DNS:login.example.test',
      'DNS:kl.internal',
      'IP Address:127.0.0.1',
      'IP Address:0:0:0:0:0:0:0:1',
      'IP Address:169.254.169.254',
      'IP Address:10.0.0.7',
    ]) {
      expect(san).toContain(want);
    }
  });

  it('writes the five files; the bundle is our CA first, then the system CAs', async () => {
    const tmp = tempDir();
    const system = await issueCertificate({ subjectCn: 'Pretend System Root' });
    const systemFile = path.join(tmp, 'system.pem');
    fs.writeFileSync(systemFile, system.certPem);
    const m = await ensurePki({ dir: path.join(tmp, 'tls'), dnsSuffix: 'example.test', systemCaFiles: ['/nonexistent/ca.pem', systemFile] });
    const files = pkiFiles(path.join(tmp, 'tls'));
    for (const f of Object.values(files)) expect(fs.existsSync(f), f).toBe(true);
    const bundle = fs.readFileSync(m.bundleFile, 'utf8');
    expect(bundle.startsWith(m.caCertPem)).toBe(true);
    expect(bundle).toContain(system.certPem.trim());
    expect(bundle.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(fs.readFileSync(m.caFile, 'utf8')).toBe(m.caCertPem);
    expect(fs.readFileSync(m.keyFile, 'utf8')).toBe(m.keyPem);
    expect(mode(files.caKeyFile)).toBe(0o600);
    expect(mode(files.keyFile)).toBe(0o600);
  });

  it('puts an IP literal given as an extra DNS name into an IP SAN', async () => {
    const m = await ensurePki({ dir: path.join(tempDir(), 'tls'), dnsSuffix: 'example.test', extraDnsNames: ['192.168.5.5'], ...noSystemCas });
    expect(m.sans.ips).toContain('192.168.5.5');
    expect(m.sans.dns).not.toContain('192.168.5.5');
    expect(sansOf(m.certPem)).toContain('IP Address:192.168.5.5');
  });

  it('rejects an invalid DNS suffix before creating anything', async () => {
    const dir = path.join(tempDir(), 'tls');
    await expect(ensurePki({ dir, dnsSuffix: 'not a host' })).rejects.toThrow(/invalid DNS name/);
    await expect(ensurePki({ dir, dnsSuffix: '*.example.test' })).rejects.toThrow(/wildcard/);
    await expect(ensurePki({ dir, dnsSuffix: 'example.test', extraIps: ['300.1.1.1'] })).rejects.toThrow(/invalid IP/);
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe('ensurePki: later starts', () => {
  it('reuses CA and leaf when nothing changed (names compared canonically)', async () => {
    const dir = path.join(tempDir(), 'tls');
    const first = await ensurePki({ dir, dnsSuffix: 'example.test', extraDnsNames: ['A.example.com'], extraIps: ['::ffff:0:1'], ...noSystemCas });
    const leafMtime = fs.statSync(first.certFile).mtimeMs;
    const again = await ensurePki({ dir, dnsSuffix: 'EXAMPLE.test.', extraDnsNames: ['a.example.com'], extraIps: ['0:0:0:0:0:ffff:0:1'], ...noSystemCas });
    expect(again.caCreated).toBe(false);
    expect(again.leafIssuedBecause).toBeUndefined();
    expect(again.caFingerprintSha256).toBe(first.caFingerprintSha256);
    expect(again.certPem).toBe(first.certPem);
    expect(again.keyPem).toBe(first.keyPem);
    expect(fs.statSync(first.certFile).mtimeMs).toBe(leafMtime);
    expect(again.warnings).toEqual([]);
  });

  it('re-issues the leaf but keeps the CA when the DNS suffix changes', async () => {
    const dir = path.join(tempDir(), 'tls');
    const first = await ensurePki({ dir, dnsSuffix: 'example.test', ...noSystemCas });
    const next = await ensurePki({ dir, dnsSuffix: 'keyless.internal', ...noSystemCas });
    expect(next.caFingerprintSha256).toBe(first.caFingerprintSha256);
    expect(next.caCertPem).toBe(first.caCertPem);
    expect(next.leafIssuedBecause).toBe('names changed');
    expect(next.certPem).not.toBe(first.certPem);
    expect(sansOf(next.certPem)).toContain('DNS:*.vault.keyless.internal');
    expect(sansOf(next.certPem)).not.toContain('example.test');
    expect(new X509Certificate(next.certPem).checkIssued(new X509Certificate(first.caCertPem))).toBe(true);
    expect(fs.readFileSync(next.certFile, 'utf8')).toBe(next.certPem);
    expect(mode(next.keyFile)).toBe(0o600);
  });

  it('re-issues a leaf that expires within 30 days, and not one that has longer left', async () => {
    const dir = path.join(tempDir(), 'tls');
    const first = await ensurePki({ dir, dnsSuffix: 'example.test', ...noSystemCas });
    const at = (ms: number) => ({ now: () => ms });
    const left = first.leafNotAfter.getTime();
    const stillFine = await ensurePki({ dir, dnsSuffix: 'example.test', clock: at(left - 31 * DAY), ...noSystemCas });
    expect(stillFine.leafIssuedBecause).toBeUndefined();
    const renewed = await ensurePki({ dir, dnsSuffix: 'example.test', clock: at(left - 29 * DAY), ...noSystemCas });
    expect(renewed.leafIssuedBecause).toBe('expires within 30 days');
    expect(renewed.leafNotAfter.getTime()).toBeGreaterThan(left);
    expect(renewed.caFingerprintSha256).toBe(first.caFingerprintSha256);
  });

  it('re-issues a leaf that is missing, unreadable, or not from this CA', async () => {
    const dir = path.join(tempDir(), 'tls');
    const first = await ensurePki({ dir, dnsSuffix: 'example.test', ...noSystemCas });

    fs.rmSync(first.keyFile);
    expect((await ensurePki({ dir, dnsSuffix: 'example.test', ...noSystemCas })).leafIssuedBecause).toBe('missing');

    fs.writeFileSync(first.certFile, 'garbage');
    expect((await ensurePki({ dir, dnsSuffix: 'example.test', ...noSystemCas })).leafIssuedBecause).toBe('unreadable');

    const other = await ensurePki({ dir: path.join(tempDir(), 'tls'), dnsSuffix: 'example.test', ...noSystemCas });
    fs.copyFileSync(other.certFile, first.certFile);
    fs.copyFileSync(other.keyFile, first.keyFile);
    const fixed = await ensurePki({ dir, dnsSuffix: 'example.test', ...noSystemCas });
    expect(fixed.leafIssuedBecause).toBe('not issued by the current CA');
    expect(new X509Certificate(fixed.certPem).checkIssued(new X509Certificate(first.caCertPem))).toBe(true);
    expect(fixed.caFingerprintSha256).toBe(first.caFingerprintSha256);
  });

  it('never replaces a CA: half a CA or a mismatched key is an error, and the files stay as they were', async () => {
    const dir = path.join(tempDir(), 'tls');
    const first = await ensurePki({ dir, dnsSuffix: 'example.test', ...noSystemCas });
    const { caKeyFile } = pkiFiles(dir);
    const caKey = fs.readFileSync(caKeyFile, 'utf8');

    fs.rmSync(caKeyFile);
    await expect(ensurePki({ dir, dnsSuffix: 'example.test' })).rejects.toThrow(/local CA is incomplete/);
    expect(fs.readFileSync(first.caFile, 'utf8')).toBe(first.caCertPem);
    expect(fs.existsSync(caKeyFile)).toBe(false);

    fs.writeFileSync(caKeyFile, first.keyPem, { mode: 0o600 }); // some other key
    await expect(ensurePki({ dir, dnsSuffix: 'example.test' })).rejects.toThrow(/does not belong/);

    fs.writeFileSync(caKeyFile, caKey, { mode: 0o600 });
    const restored = await ensurePki({ dir, dnsSuffix: 'example.test', ...noSystemCas });
    expect(restored.caFingerprintSha256).toBe(first.caFingerprintSha256);
    expect(restored.caCreated).toBe(false);
  });

  it('refuses an expired CA with instructions instead of silently making a new one', async () => {
    const dir = path.join(tempDir(), 'tls');
    const first = await ensurePki({ dir, dnsSuffix: 'example.test', ...noSystemCas });
    const caEnd = Date.parse(new X509Certificate(first.caCertPem).validTo);
    await expect(ensurePki({ dir, dnsSuffix: 'example.test', clock: { now: () => caEnd + DAY } })).rejects.toThrow(/expired/);
    const nearEnd = await ensurePki({ dir, dnsSuffix: 'example.test', clock: { now: () => caEnd - 10 * DAY }, ...noSystemCas });
    expect(nearEnd.warnings.join('\n')).toMatch(/local CA .* expires on/);
    // A leaf never outlives its CA.
    expect(nearEnd.leafNotAfter.getTime()).toBeLessThanOrEqual(caEnd);
    expect(nearEnd.caFingerprintSha256).toBe(first.caFingerprintSha256);
  });

  it.skipIf(process.platform === 'win32')('warns about private keys readable by group/others', async () => {
    const dir = path.join(tempDir(), 'tls');
    await ensurePki({ dir, dnsSuffix: 'example.test', ...noSystemCas });
    const { caKeyFile, keyFile } = pkiFiles(dir);
    fs.chmodSync(caKeyFile, 0o644);
    fs.chmodSync(keyFile, 0o640);
    const m = await ensurePki({ dir, dnsSuffix: 'example.test', ...noSystemCas });
    expect(m.warnings).toHaveLength(2);
    expect(m.warnings[0]).toContain(`${caKeyFile} is accessible by group/others (mode 0644)`);
    expect(m.warnings[1]).toContain(keyFile);
  });

  it('creates the PKI directory 0700 but leaves an existing directory’s mode alone', async () => {
    const parent = tempDir();
    fs.chmodSync(parent, 0o755);
    await ensurePki({ dir: parent, dnsSuffix: 'example.test', ...noSystemCas });
    expect(mode(parent)).toBe(0o755);
    const created = path.join(parent, 'nested', 'tls');
    await ensurePki({ dir: created, dnsSuffix: 'example.test', ...noSystemCas });
    expect(mode(created)).toBe(0o700);
  });
});
