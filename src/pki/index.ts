export type { PkiMaterial, PkiOptions } from './ensure.js';
export { ensurePki, pkiFiles } from './ensure.js';
export type { IssueCertificateOptions, IssuedCertificate, PemPair } from './certificates.js';
export { CA_VALIDITY_DAYS, issueCertificate, LEAF_VALIDITY_DAYS } from './certificates.js';
export type { CertificateThumbprints } from './thumbprints.js';
export { thumbprints } from './thumbprints.js';
export type { SanSet } from './names.js';
export { requiredSans } from './names.js';
export { SYSTEM_CA_FILES } from './files.js';
