// tsyringe (inside @peculiar/x509) needs a Reflect metadata polyfill loaded before it.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, KeyObject, randomBytes, webcrypto } from 'node:crypto';

/**
 * The one place src/pki loads @peculiar/x509: reflect-metadata above must load first, and the crypto provider
 * is set explicitly rather than left to the library's global sniffing, which differs between runtimes.
 */
// The (name, provider) overload: its parameter types hold whether or not the DOM lib (which declares `Crypto`) is loaded.
x509.cryptoProvider.set(x509.CryptoProvider.DEFAULT, webcrypto as never);

export { x509 };

/**
 * RSA-2048 with SHA-256: the one combination every client we must serve accepts (Node's TLS, OpenSSL-backed
 * Python requests/urllib3, az 2.45, and the .NET/Java validators behind Entra-style client certificates).
 */
export const RSA_KEYGEN = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
} as const;

export type WebCryptoKeyPair = webcrypto.CryptoKeyPair;
export type WebCryptoKey = webcrypto.CryptoKey;

export async function generateRsaKeyPair(): Promise<WebCryptoKeyPair> {
  return webcrypto.subtle.generateKey(RSA_KEYGEN, true, ['sign', 'verify']);
}

export function privateKeyPem(key: WebCryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }) as string;
}

export interface SigningKey {
  key: WebCryptoKey;
  algorithm: webcrypto.RsaHashedImportParams | webcrypto.EcdsaParams;
}

/**
 * Imports a PEM private key for signing certificates. Our own CA is RSA, but a user may drop in a CA made by
 * another tool (mkcert's is RSA-3072, others use P-256/P-384), so the signature algorithm follows the key.
 */
export async function importSigningKey(pem: string): Promise<SigningKey> {
  const ko = createPrivateKey(pem);
  const der = ko.export({ type: 'pkcs8', format: 'der' });
  if (ko.asymmetricKeyType === 'rsa') {
    const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    const key = await webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
    return { key, algorithm };
  }
  if (ko.asymmetricKeyType === 'ec') {
    const curve = ko.asymmetricKeyDetails?.namedCurve;
    const namedCurve = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : curve === 'secp521r1' ? 'P-521' : undefined;
    if (!namedCurve) throw new Error(`unsupported EC curve for a CA key: ${curve ?? 'unknown'}`);
    const hash = namedCurve === 'P-256' ? 'SHA-256' : namedCurve === 'P-384' ? 'SHA-384' : 'SHA-512';
    const key = await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve }, false, ['sign']);
    return { key, algorithm: { name: 'ECDSA', hash } };
  }
  throw new Error(`unsupported CA key type: ${ko.asymmetricKeyType ?? 'unknown'} (expected RSA or EC)`);
}

/** Positive, non-zero 128-bit serial (RFC 5280 §4.1.2.2: positive, ≤ 20 octets; CA/B asks for ≥ 64 random bits). */
export function randomSerial(): string {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  return serial.toString('hex');
}

/** x509 emits CRLF-separated PEM; files and API values use LF and end with one newline. */
export function normalizePem(pem: string): string {
  return pem.replace(/\r\n/g, '\n').trim() + '\n';
}

