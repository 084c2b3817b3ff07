import fs from 'node:fs';
import path from 'node:path';
import https from 'node:https';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePki, type PkiMaterial } from '../../../src/pki/index.js';
import { mode, run, tempDir, toolAvailable } from './helpers.js';

const SUFFIX = 'example.test';

let pki: PkiMaterial;
let server: https.Server;
let port: number;

beforeAll(async () => {
  pki = await ensurePki({ dir: path.join(tempDir(), 'tls'), dnsSuffix: SUFFIX });
  server = https.createServer({ cert: pki.certPem, key: pki.keyPem }, (_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

interface Outcome {
  status?: number;
  body?: string;
  error?: NodeJS.ErrnoException;
}

/** Always dials 127.0.0.1; `host`/`servername` decide which name the certificate is checked against. */
function get(opts: https.RequestOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/', agent: false, ...opts }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error }));
    req.end();
  });
}

// Resolves every name to 127.0.0.1, the way the spec's namespace-private /etc/hosts does (clients.md §0).
const toLoopback = ((_host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) => {
  if (options.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
  else cb(null, '127.0.0.1', 4);
}) as unknown as https.RequestOptions['lookup'];

describe('server certificate over real TLS', () => {
  it('is trusted for https://127.0.0.1 when the client trusts the CA', async () => {
    const r = await get({ ca: pki.caCertPem });
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ status: 200, body: 'ok' });
  });

  it('is trusted for https://localhost', async () => {
    const r = await get({ host: 'localhost', lookup: toLoopback, ca: pki.caCertPem });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(200);
  });

  it.each([`myvault.vault.${SUFFIX}`, `myacct.blob.${SUFFIX}`, `management.${SUFFIX}`, `login.${SUFFIX}`, SUFFIX])(
    'passes SNI + default hostname verification for %s',
    async (name) => {
      const r = await get({ host: name, lookup: toLoopback, servername: name, ca: pki.caCertPem });
      expect(r.error).toBeUndefined();
      expect(r.status).toBe(200);
    },
  );

  it('is trusted through the bundle file (CA + system CAs) that REQUESTS_CA_BUNDLE names', async () => {
    const r = await get({ ca: fs.readFileSync(pki.bundleFile) });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(200);
  });

  it('fails verification when the client does not trust the CA', async () => {
    const r = await get({});
    expect(r.status).toBeUndefined();
    expect(r.error?.code).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|SELF_SIGNED/);
  });

  it('fails hostname verification for names outside the SANs (wildcards span one label)', async () => {
    for (const name of ['evil.invalid', `a.b.vault.${SUFFIX}`]) {
      const r = await get({ host: name, lookup: toLoopback, servername: name, ca: pki.caCertPem });
      expect(r.error?.code, name).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    }
  });

  it('covers the IP literals clients dial (checked with the same function https uses)', () => {
    const peer = new X509Certificate(pki.certPem).toLegacyObject();
    for (const ip of ['127.0.0.1', '::1', '169.254.169.254']) expect(tls.checkServerIdentity(ip, peer), ip).toBeUndefined();
    expect(tls.checkServerIdentity('10.1.2.3', peer)).toBeInstanceOf(Error);
  });

  it.skipIf(!toolAvailable('python3', ['-c', 'import ssl']))('is accepted by Python/OpenSSL with the bundle as cafile', async () => {
    const script = [
      'import socket, ssl, sys',
      'ctx = ssl.create_default_context(cafile=sys.argv[1])',
      's = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[2]))), server_hostname=sys.argv[3])',
      's.sendall(b"GET / HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n")',
      'print(s.recv(4096).decode().split("\\r\\n")[0])',
    ].join('\n');
    const r = await run('python3', ['-c', script, pki.bundleFile, String(port), `myvault.vault.${SUFFIX}`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^HTTP\/1\.[01] 200/);
  });

  it.skipIf(!toolAvailable('openssl', ['version']))('verifies with `openssl verify` (strict, sslserver purpose)', async () => {
    const dir = path.dirname(pki.caFile);
    const r = await run('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', pki.caFile, path.join(dir, 'server.crt')]);
    expect(r.stdout.trim()).toBe(`${path.join(dir, 'server.crt')}: OK`);
    expect(r.code).toBe(0);
  });

  it('writes keys 0600 in a 0700 directory, certificates 0644', () => {
    expect(mode(pki.keyFile)).toBe(0o600);
    expect(mode(path.join(path.dirname(pki.caFile), 'ca.key'))).toBe(0o600);
    expect(mode(path.dirname(pki.caFile))).toBe(0o700);
    expect(mode(pki.caFile)).toBe(0o644);
    expect(mode(pki.certFile)).toBe(0o644);
    expect(mode(pki.bundleFile)).toBe(0o644);
  });
});
