import path from 'node:path';
import fs from 'node:fs';
import { createHash, createPrivateKey, createSign, createVerify, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ensurePki, issueCertificate, requiredSans, thumbprints } from '../../../src/pki/index.js';
import { canonicalIp } from '../../../src/pki/names.js';
import { run, tempDir, toolAvailable } from './helpers.js';

const DAY = 24 * 3600 * 1000;

describe('thumbprints', () => {
  it('are the base64url SHA-1 / SHA-256 of the DER certificate, plus Azure’s upper-case hex SHA-1', async () => {
    const { certPem } = await issueCertificate({ subjectCn: 'thumbs' });
    const der = new X509Certificate(certPem).raw;
    const t = thumbprints(certPem);
    expect(t.x5t).toBe(createHash('sha1').update(der).digest('base64url'));
    expect(t.x5tS256).toBe(createHash('sha256').update(der).digest('base64url'));
    expect(t.x5t).toMatch(/^[A-Za-z0-9_-]{27}$/);
    expect(t.thumbprintHex).toBe(new X509Certificate(certPem).fingerprint.replace(/:/g, ''));
    expect(t.thumbprintHex).toMatch(/^[0-9A-F]{40}$/);
  });
});

describe('issueCertificate (client certificates for service principals)', () => {
  it('makes a self-signed RSA-2048 clientAuth certificate whose key signs what the certificate verifies', async () => {
    const now = Date.now();
    const c = await issueCertificate({ subjectCn: 'sp-with-cert, test', validityDays: 30, clock: { now: () => now } });
    const cert = new X509Certificate(c.certPem);
    expect(cert.subject).toBe('CN=sp-with-cert\\, test'); // the comma stays inside the CN
    expect(cert.verify(cert.publicKey)).toBe(true); // self-signed (checkIssued is false by design: no keyCertSign)
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(cert.checkPrivateKey(createPrivateKey(c.keyPem))).toBe(true);
    expect(c.notAfter.getTime()).toBe(now + 30 * DAY - (now % 1000));
    expect(c.serialNumber).toBe(cert.serialNumber);
    expect(c).toMatchObject(thumbprints(c.certPem));

    const sig = createSign('RSA-SHA256').update('client assertion').sign(c.keyPem);
    expect(createVerify('RSA-SHA256').update('client assertion').verify(cert.publicKey, sig)).toBe(true);
  });

  it('offers the key+certificate single-file PEM that az login --service-principal takes', async () => {
    const c = await issueCertificate({ subjectCn: 'combined' });
    expect(c.combinedPem.indexOf('PRIVATE KEY')).toBeLessThan(c.combinedPem.indexOf('CERTIFICATE'));
    expect(new X509Certificate(c.combinedPem).fingerprint256).toBe(new X509Certificate(c.certPem).fingerprint256);
    expect(createPrivateKey(c.combinedPem).asymmetricKeyType).toBe('rsa');
  });

  it('can be issued by the local CA instead', async () => {
    const dir = path.join(tempDir(), 'tls');
    const pki = await ensurePki({ dir, dnsSuffix: 'example.test', systemCaFiles: [] });
    const caKeyPem = fs.readFileSync(path.join(dir, 'ca.key'), 'utf8');
    const c = await issueCertificate({ subjectCn: 'from-ca', issuer: { certPem: pki.caCertPem, keyPem: caKeyPem } });
    const ca = new X509Certificate(pki.caCertPem);
    const cert = new X509Certificate(c.certPem);
    expect(cert.checkIssued(ca) && cert.verify(ca.publicKey)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(false);
    if (toolAvailable('openssl', ['version'])) {
      const f = path.join(dir, 'client.crt');
      fs.writeFileSync(f, c.certPem);
      const r = await run('openssl', ['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', pki.caFile, f]);
      expect(r.stdout.trim()).toBe(`${f}: OK`);
    }
  });

  it('rejects an empty subject or a non-positive validity', async () => {
    await expect(issueCertificate({ subjectCn: '  ' })).rejects.toThrow(/subjectCn/);
    await expect(issueCertificate({ subjectCn: 'x', validityDays: 0 })).rejects.toThrow(/validityDays/);
  });
});

describe('SAN computation', () => {
  it('canonicalizes IPs so equal addresses compare equal', () => {
    expect(canonicalIp('0:0:0:0:0:0:0:1')).toBe('::1');
    expect(canonicalIp('[::1]')).toBe('::1');
    expect(canonicalIp('FE80:0:0:0:0:0:0:ABCD')).toBe('fe80::abcd');
    expect(canonicalIp('127.0.0.1')).toBe('127.0.0.1');
    expect(() => canonicalIp('127.1')).toThrow(/invalid IP/);
  });

  it('covers loopback, IMDS and every per-service host under the suffix, deduplicated', () => {
    const s = requiredSans({ dnsSuffix: 'localhost', extraDnsNames: ['LOCALHOST', 'login.localhost'] });
    expect(s.dns).toEqual(['*.blob.localhost', '*.localhost', '*.vault.localhost', 'localhost', 'login.localhost', 'management.localhost']);
    expect(s.ips).toEqual(['127.0.0.1', '169.254.169.254', '::1']);
  });
});
