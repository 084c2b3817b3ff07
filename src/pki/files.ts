import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export const PRIVATE_FILE_MODE = 0o600;
export const PUBLIC_FILE_MODE = 0o644;
export const PRIVATE_DIR_MODE = 0o700;

/** POSIX permission bits are meaningless on Windows; checks and chmods are skipped there. */
const POSIX = process.platform !== 'win32';

/**
 * Write-then-rename so a crash never leaves a half-written key or certificate behind, and create the
 * temporary file with its final mode so a private key is never readable by others, not even for an instant
 * (chmod afterwards as well, because the umask may have narrowed — or a platform may have ignored — the mode).
 */
export function writeFileAtomic(file: string, data: string | Buffer, mode: number): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    fs.writeFileSync(tmp, data, { mode, flag: 'wx' });
    if (POSIX) fs.chmodSync(tmp, mode);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Creates `dir` 0700 if missing. An existing directory keeps its mode: it may be shared on purpose. */
export function ensurePrivateDir(dir: string, warnings: string[]): void {
  if (!fs.existsSync(dir)) {
    fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    if (POSIX) fs.chmodSync(dir, PRIVATE_DIR_MODE);
    return;
  }
  const st = fs.statSync(dir);
  if (!st.isDirectory()) throw new Error(`PKI directory ${dir} exists and is not a directory`);
  // Whoever can write the directory can swap the CA key or server certificate.
  if (POSIX && (st.mode & 0o022) !== 0) {
    warnings.push(`PKI directory ${dir} is writable by group/others (mode ${modeString(st.mode)}); run: chmod go-w ${dir}`);
  }
}

export function checkPrivateFileMode(file: string, warnings: string[]): void {
  if (!POSIX) return;
  const mode = fs.statSync(file).mode;
  if ((mode & 0o077) !== 0) {
    warnings.push(`private key ${file} is accessible by group/others (mode ${modeString(mode)}); run: chmod 600 ${file}`);
  }
}

export const modeString = (mode: number): string => (mode & 0o777).toString(8).padStart(4, '0');

export function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Where distributions keep the system trust store as one PEM file: Debian/Ubuntu (the spec's platform,
 * and where Debian's certifi points), RHEL/Fedora, Alpine/macOS/BSD. The first one that exists is used.
 */
export const SYSTEM_CA_FILES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

/**
 * The system CAs, so REQUESTS_CA_BUNDLE (which *replaces* requests' trust store) can point at our bundle
 * without breaking the client's calls to real public hosts. With no system store found (minimal
 * containers, Windows) the bundle holds only our CA, which is still what local-only clients need.
 */
export function readSystemCaPem(candidates: readonly string[] = SYSTEM_CA_FILES): string {
  for (const f of candidates) {
    const pem = readIfExists(f);
    if (pem !== undefined) return pem;
  }
  return '';
}
