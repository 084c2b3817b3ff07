import { randomBytes, webcrypto } from 'node:crypto';

export const RS256_ALGORITHM = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
} as const;

/**
 * Certificate lifetime. Relying parties that read x5c (some .NET and Java validators) may check the certificate
 * dates, so it must outlive the key's whole next → active → retired life; Azure's signing certificates are
 * issued for about five years.
 */
const CERT_VALIDITY_MS = 5 * 365 * 24 * 3600 * 1000;

/** A self-signed certificate exists only so the JWKS can carry x5c/x5t like Entra's; nothing chains to it. */
export async function selfSignedSigningCertificate(keys: webcrypto.CryptoKeyPair, nowMs: number): Promise<Buffer> {
  // One configured @peculiar/x509 for the whole server, loaded only when a key is made (not on every start).
  const { x509 } = await import('../pki/x509.js');
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f; // positive INTEGER per RFC 5280 §4.1.2.2
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: 'CN=Keyless token signing',
    // Backdated an hour so a verifier whose clock lags ours still sees a valid certificate.
    notBefore: new Date(nowMs - 3600_000),
    notAfter: new Date(nowMs + CERT_VALIDITY_MS),
    signingAlgorithm: RS256_ALGORITHM,
    keys: keys as never,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    ],
  });
  return Buffer.from(cert.rawData);
}
