import path from 'node:path';
import { createPrivateKey, X509Certificate as NodeX509 } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { PemPair } from './certificates.js';
import {
  checkPrivateFileMode,
  ensurePrivateDir,
  PRIVATE_FILE_MODE,
  PUBLIC_FILE_MODE,
  readIfExists,
  readSystemCaPem,
  writeFileAtomic,
} from './files.js';
import type { SanSet } from './names.js';
import { requiredSans, sameSans, sanNamesOf, sanSetOf } from './names.js';
import { DAY_MS } from './validity.js';

export interface PkiOptions {
  dir: string;
  dnsSuffix: string;
  extraDnsNames?: string[];
  extraIps?: string[];
  clock?: Clock;
  /** Trust-store files to append to ca-bundle.crt; the first that exists is used. Default: SYSTEM_CA_FILES. */
  systemCaFiles?: readonly string[];
}

export interface PkiMaterial {
  caCertPem: string;
  caFile: string;
  /** Our CA followed by the system CAs: the file REQUESTS_CA_BUNDLE should name. */
  bundleFile: string;
  certPem: string;
  keyPem: string;
  certFile: string;
  keyFile: string;
  /** Colon-separated upper-case hex, as `openssl x509 -fingerprint -sha256` and Node print it. */
  caFingerprintSha256: string;
  /** Security findings for the start-up log (loose key permissions, CA close to expiry …). */
  warnings: string[];
  caCreated: boolean;
  /** Why a new server certificate was issued on this call; undefined when the existing one was reused. */
  leafIssuedBecause: string | undefined;
  leafNotAfter: Date;
  sans: SanSet;
}

const RENEW_BEFORE_MS = 30 * DAY_MS;

export const pkiFiles = (dir: string) => ({
  caFile: path.join(dir, 'ca.crt'),
  caKeyFile: path.join(dir, 'ca.key'),
  certFile: path.join(dir, 'server.crt'),
  keyFile: path.join(dir, 'server.key'),
  bundleFile: path.join(dir, 'ca-bundle.crt'),
});
type PkiFiles = ReturnType<typeof pkiFiles>;

/**
 * Makes sure `opts.dir` holds a local CA and a server certificate for the configured names, creating what is
 * missing. The CA is created once and never replaced: users have put it in trust stores. The leaf is cheap and
 * re-issued whenever it no longer fits (missing, expiring, names changed, not from this CA).
 */
export async function ensurePki(opts: PkiOptions): Promise<PkiMaterial> {
  const clock = opts.clock ?? systemClock;
  // Validate the names before touching the disk, so a typo in the config leaves nothing half-made.
  const sans = requiredSans(opts);
  const dir = path.resolve(opts.dir);
  const files = pkiFiles(dir);
  const warnings: string[] = [];
  ensurePrivateDir(dir, warnings);

  const { ca, caCreated } = await loadOrCreateCa(files, clock, warnings);
  const caCert = new NodeX509(ca.certPem);

  let certPem = readIfExists(files.certFile);
  let keyPem = readIfExists(files.keyFile);
  const problem = leafProblem(certPem, keyPem, caCert, sans, clock.now());
  if (problem) {
    // Reading certificates needs only node:crypto; making one loads the X.509 library (pki/index.ts says why).
    const { issueServerCertificate } = await import('./certificates.js');
    const leaf = await issueServerCertificate(ca, sans, clock);
    // Key first: a crash between the two writes leaves a cert/key mismatch, which the next start detects and repairs.
    writeFileAtomic(files.keyFile, leaf.keyPem, PRIVATE_FILE_MODE);
    writeFileAtomic(files.certFile, leaf.certPem, PUBLIC_FILE_MODE);
    certPem = leaf.certPem;
    keyPem = leaf.keyPem;
  } else {
    checkPrivateFileMode(files.keyFile, warnings);
  }
  if (certPem === undefined || keyPem === undefined) throw new Error('unreachable: server certificate missing after issuance');

  const bundle = [ca.certPem, readSystemCaPem(opts.systemCaFiles)].map((p) => p.trim()).filter(Boolean).join('\n') + '\n';
  // Rewritten only on change (the system store is updated by the OS), so an unchanged start touches nothing.
  if (readIfExists(files.bundleFile) !== bundle) writeFileAtomic(files.bundleFile, bundle, PUBLIC_FILE_MODE);

  return {
    caCertPem: ca.certPem,
    caFile: files.caFile,
    bundleFile: files.bundleFile,
    certPem,
    keyPem,
    certFile: files.certFile,
    keyFile: files.keyFile,
    caFingerprintSha256: caCert.fingerprint256,
    warnings,
    caCreated,
    leafIssuedBecause: problem,
    leafNotAfter: new Date(new NodeX509(certPem).validTo),
    sans,
  };
}

async function loadOrCreateCa(files: PkiFiles, clock: Clock, warnings: string[]): Promise<{ ca: PemPair; caCreated: boolean }> {
  const certPem = readIfExists(files.caFile);
  const keyPem = readIfExists(files.caKeyFile);
  if (certPem === undefined && keyPem === undefined) {
    const { createCa } = await import('./certificates.js');
    const ca = await createCa(clock);
    writeFileAtomic(files.caKeyFile, ca.keyPem, PRIVATE_FILE_MODE);
    writeFileAtomic(files.caFile, ca.certPem, PUBLIC_FILE_MODE);
    return { ca, caCreated: true };
  }
  // Half a CA is never "repaired" by making a new one: clients may trust the old certificate.
  if (certPem === undefined || keyPem === undefined) {
    const [present, missing] = certPem === undefined ? [files.caKeyFile, files.caFile] : [files.caFile, files.caKeyFile];
    throw new Error(
      `local CA is incomplete: ${present} exists but ${missing} does not. Restore the missing file, or delete both ` +
        `to create a new CA (clients that trusted the old one must then trust the new ${files.caFile}).`,
    );
  }
  let cert: NodeX509;
  try {
    cert = new NodeX509(certPem);
  } catch (e) {
    throw new Error(`local CA certificate ${files.caFile} cannot be parsed`, { cause: e });
  }
  if (!cert.ca) throw new Error(`${files.caFile} is not a CA certificate (basicConstraints CA:false)`);
  let keyMatches: boolean;
  try {
    keyMatches = cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch (e) {
    throw new Error(`local CA key ${files.caKeyFile} cannot be parsed`, { cause: e });
  }
  if (!keyMatches) throw new Error(`local CA key ${files.caKeyFile} does not belong to ${files.caFile}`);
  checkPrivateFileMode(files.caKeyFile, warnings);

  const notAfter = new Date(cert.validTo).getTime();
  const now = clock.now();
  if (notAfter <= now) {
    throw new Error(
      `local CA ${files.caFile} expired on ${new Date(notAfter).toISOString()}; delete ca.crt and ca.key to create a new CA ` +
        `and make clients trust the new one`,
    );
  }
  if (notAfter - now < RENEW_BEFORE_MS) {
    warnings.push(`local CA ${files.caFile} expires on ${new Date(notAfter).toISOString()}; plan to replace it`);
  }
  return { ca: { certPem, keyPem }, caCreated: false };
}

/** Why the stored server certificate cannot be reused, or undefined when it can. */
function leafProblem(certPem: string | undefined, keyPem: string | undefined, ca: NodeX509, required: SanSet, now: number): string | undefined {
  if (certPem === undefined || keyPem === undefined) return 'missing';
  let node: NodeX509;
  try {
    node = new NodeX509(certPem);
    if (!node.checkPrivateKey(createPrivateKey(keyPem))) return 'key does not match certificate';
  } catch {
    return 'unreadable';
  }
  if (!node.checkIssued(ca) || !node.verify(ca.publicKey)) return 'not issued by the current CA';
  if (new Date(node.validFrom).getTime() > now) return 'not yet valid';
  if (new Date(node.validTo).getTime() - now < RENEW_BEFORE_MS) return 'expires within 30 days';
  const names = sanNamesOf(node.subjectAltName);
  if (!sameSans(sanSetOf(names), required)) return 'names changed';
  return undefined;
}
