import { createHash, X509Certificate } from 'node:crypto';

export interface CertificateThumbprints {
  /** base64url SHA-1 of the DER certificate: the JWS `x5t` header and JWKS `x5t`. */
  x5t: string;
  /** base64url SHA-256 of the DER certificate: `x5t#S256`. */
  x5tS256: string;
  /** Upper-case hex SHA-1: what Azure calls a certificate's "thumbprint" (portal, az, keyCredentials). */
  thumbprintHex: string;
}

/** Thumbprints of the first certificate in `certPem`. */
export function thumbprints(certPem: string): CertificateThumbprints {
  const der = new X509Certificate(certPem).raw;
  const sha1 = createHash('sha1').update(der).digest();
  return {
    x5t: sha1.toString('base64url'),
    x5tS256: createHash('sha256').update(der).digest('base64url'),
    thumbprintHex: sha1.toString('hex').toUpperCase(),
  };
}
