import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensurePki } from '../../src/pki/index.js';

/**
 * One CA for the whole run, made before the workers fork, so NODE_EXTRA_CA_CERTS (read by Node only at
 * start-up) makes every worker trust every Keyless the tests start — as a user's machine trusts theirs.
 */
export default async function setup(): Promise<() => void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-test-tls-'));
  const pki = await ensurePki({ dir, dnsSuffix: 'keyless.localhost', extraDnsNames: ['localhost'] });
  process.env['KEYLESS_TEST_TLS_DIR'] = dir;
  process.env['NODE_EXTRA_CA_CERTS'] = pki.caFile;
  process.env['KEYLESS_TEST_CA_BUNDLE'] = pki.bundleFile;
  fs.mkdirSync('test-artifacts', { recursive: true });
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
