import { randomBytes, X509Certificate as NodeX509 } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { SanSet } from './names.js';
import type { CertificateThumbprints } from './thumbprints.js';
import { thumbprints } from './thumbprints.js';
import { BACKDATE_MS, CA_VALIDITY_DAYS, DAY_MS, LEAF_VALIDITY_DAYS } from './validity.js';
import {
  generateRsaKeyPair,
  importSigningKey,
  normalizePem,
  privateKeyPem,
  RSA_KEYGEN,
  randomSerial,
  x509,
} from './x509.js';

export interface PemPair {
  certPem: string;
  keyPem: string;
}

const RSA_SIGNING = { name: RSA_KEYGEN.name, hash: RSA_KEYGEN.hash };

export async function createCa(clock: Clock): Promise<PemPair> {
  const keys = await generateRsaKeyPair();
  const now = clock.now();
  // A random id in the name tells several Keyless CAs apart in a trust store or a browser's certificate list.
  const id = randomBytes(4).toString('hex');
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=Keyless Local CA ${id}, O=Keyless`,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + CA_VALIDITY_DAYS * DAY_MS),
    signingAlgorithm: RSA_SIGNING,
    keys,
    extensions: [
      // pathLen 0: the CA signs leaves only; nothing can hang a sub-CA under it.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: normalizePem(cert.toString('pem')), keyPem: privateKeyPem(keys.privateKey) };
}

interface LeafParams {
  subjectCn: string;
  issuer?: PemPair | undefined;
  validityDays: number;
  extendedKeyUsages: string[];
  keyUsages: number;
  sans?: SanSet | undefined;
  clock: Clock;
}

async function issue(p: LeafParams): Promise<PemPair & { cert: InstanceType<typeof x509.X509Certificate> }> {
  const keys = await generateRsaKeyPair();
  const now = p.clock.now();
  let notAfter = now + p.validityDays * DAY_MS;
  const subject = [{ CN: [p.subjectCn] }];
  const extensions: InstanceType<typeof x509.Extension>[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(p.keyUsages, true),
    new x509.ExtendedKeyUsageExtension(p.extendedKeyUsages, false),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (p.sans) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        [...p.sans.dns.map((value) => ({ type: 'dns' as const, value })), ...p.sans.ips.map((value) => ({ type: 'ip' as const, value }))],
        false,
      ),
    );
  }
  let cert: InstanceType<typeof x509.X509Certificate>;
  if (p.issuer) {
    const ca = new x509.X509Certificate(p.issuer.certPem);
    // A leaf outliving its issuer fails verification anyway; clamp so the expiry check sees the real end.
    notAfter = Math.min(notAfter, ca.notAfter.getTime());
    const ski = ca.getExtension(x509.SubjectKeyIdentifierExtension);
    // Copy the CA's own SKI rather than recompute it: a CA made by another tool may have used another method.
    extensions.push(
      ski ? new x509.AuthorityKeyIdentifierExtension(ski.keyId) : await x509.AuthorityKeyIdentifierExtension.create(ca.publicKey),
    );
    const signer = await importSigningKey(p.issuer.keyPem);
    cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject,
      // The CA's encoded Name object, not a re-typed string: chain building compares issuer and subject bytes.
      issuer: ca.subjectName,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(notAfter),
      signingAlgorithm: signer.algorithm,
      publicKey: keys.publicKey,
      signingKey: signer.key,
      extensions,
    });
  } else {
    cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerial(),
      name: subject,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(notAfter),
      signingAlgorithm: RSA_SIGNING,
      keys,
      extensions,
    });
  }
  return { cert, certPem: normalizePem(cert.toString('pem')), keyPem: privateKeyPem(keys.privateKey) };
}

export async function issueServerCertificate(ca: PemPair, sans: SanSet, clock: Clock): Promise<PemPair> {
  const { certPem, keyPem } = await issue({
    subjectCn: 'Keyless Server',
    issuer: ca,
    validityDays: LEAF_VALIDITY_DAYS,
    extendedKeyUsages: [x509.ExtendedKeyUsage.serverAuth],
    // keyEncipherment only matters for RSA key exchange (TLS 1.2 without ECDHE), which some old clients still pick.
    keyUsages: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
    sans,
    clock,
  });
  return { certPem, keyPem };
}

export interface IssueCertificateOptions {
  subjectCn: string;
  /** Default 365. */
  validityDays?: number;
  /** Sign with this CA (e.g. the local CA from ensurePki); omitted → self-signed, as `az ad sp create-for-rbac --create-cert` makes. */
  issuer?: PemPair;
  clock?: Clock;
}

export interface IssuedCertificate extends PemPair, CertificateThumbprints {
  /** Private key followed by the certificate: the single-file form `az login --service-principal -p <file>` wants. */
  combinedPem: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
}

/**
 * A client certificate (RSA-2048, SHA-256, EKU clientAuth) for service principals that authenticate with a
 * certificate credential: the public part is uploaded as a key credential, the key signs client assertions.
 */
export async function issueCertificate(opts: IssueCertificateOptions): Promise<IssuedCertificate> {
  if (!opts.subjectCn.trim()) throw new Error('issueCertificate: subjectCn must not be empty');
  const validityDays = opts.validityDays ?? 365;
  if (!(validityDays > 0)) throw new Error('issueCertificate: validityDays must be positive');
  const { cert, certPem, keyPem } = await issue({
    subjectCn: opts.subjectCn,
    issuer: opts.issuer,
    validityDays,
    extendedKeyUsages: [x509.ExtendedKeyUsage.clientAuth],
    keyUsages: x509.KeyUsageFlags.digitalSignature,
    clock: opts.clock ?? systemClock,
  });
  return {
    certPem,
    keyPem,
    combinedPem: keyPem + certPem,
    serialNumber: new NodeX509(certPem).serialNumber,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    ...thumbprints(certPem),
  };
}
