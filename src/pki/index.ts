export type { PkiMaterial, PkiOptions } from './ensure.js';
export { ensurePki, pkiFiles } from './ensure.js';
import type { IssueCertificateOptions, IssuedCertificate } from './certificates.js';
export type { IssueCertificateOptions, IssuedCertificate, PemPair } from './certificates.js';
export { CA_VALIDITY_DAYS, LEAF_VALIDITY_DAYS } from './validity.js';

/**
 * A certificate from the local CA (or self-signed). The X.509 library behind it is loaded on first use: it is
 * the largest module a server start would otherwise evaluate (about 50 ms), and a start that finds its
 * certificates in place never needs it.
 */
export async function issueCertificate(opts: IssueCertificateOptions): Promise<IssuedCertificate> {
  return (await import('./certificates.js')).issueCertificate(opts);
}
export type { CertificateThumbprints } from './thumbprints.js';
export { thumbprints } from './thumbprints.js';
export type { SanSet } from './names.js';
export { requiredSans } from './names.js';
export { SYSTEM_CA_FILES } from './files.js';
