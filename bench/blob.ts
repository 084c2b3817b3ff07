/**
 * Blob GET 4 KiB and PUT 1 MiB: Keyless (bearer + RBAC, and Shared Key) against Azurite's blob service (Shared
 * Key, how Azurite is normally used), both over HTTPS with certificates from the same CA, each in its own
 * process; Azurite keeps its data in a temp dir on disk as Keyless keeps blobs in SQLite. Goal ≥ 1.0× Azurite.
 * Usage: npx tsx bench/blob.ts [--runs 5] [--seconds 5]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { benchTlsDir, compareLoads, LOAD_TABLE_HEAD, loadRow, machine, numArg, request, startFixture } from './lib.js';
import { sharedKeyHeaders } from './shared-key.js';

const AZURITE_ACCOUNT = 'devstoreaccount1';
// Azurite's documented well-known development key (not a secret).
const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const MiB = Buffer.alloc(1024 * 1024, 'm');
const KiB4 = Buffer.alloc(4096, 'k');

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });

export async function startAzurite(tls: { dir: string; cert: string; key: string }): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const main = createRequire(import.meta.url).resolve('azurite/dist/src/blob/main.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-bench-azurite-'));
  const port = await freePort();
  const child = spawn(process.execPath, [main, '--blobHost', '127.0.0.1', '--blobPort', String(port), '--location', dir, '--cert', tls.cert, '--key', tls.key, '--silent', '--skipApiVersionCheck', '--loose', '--disableTelemetry'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Never leave Azurite behind when the bench itself dies.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  const url = `https://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  const deadline = Date.now() + 30_000;
  let last = '';
  for (;;) {
    if (child.exitCode !== null) throw new Error(`azurite exited with ${child.exitCode}`);
    const headers = sharedKeyHeaders({ account: AZURITE_ACCOUNT, key: AZURITE_KEY, method: 'GET', canonicalPath: `/${AZURITE_ACCOUNT}/${AZURITE_ACCOUNT}/\ncomp:list` });
    const ok = await request(`${url}/?comp=list`, { headers, ca: fs.readFileSync(path.join(tls.dir, 'ca.crt')) }).then(
      (r) => ((last = `${r.status} ${r.text.slice(0, 200)}`), r.status),
      (e: Error) => ((last = e.message), 0),
    );
    if (ok === 200) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`azurite did not answer: ${last}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((r) => {
        process.off('exit', reap);
        // Azurite waits for open keep-alive connections on SIGTERM; give it a moment, then insist.
        const force = setTimeout(() => child.kill('SIGKILL'), 3000);
        child.once('exit', () => {
          clearTimeout(force);
          fs.rmSync(dir, { recursive: true, force: true });
          r();
        });
        if (child.exitCode !== null) child.emit('exit', child.exitCode);
        else child.kill('SIGTERM');
      }),
  };
}

export async function benchBlob(runs: number, seconds: number): Promise<string> {
  const tls = await benchTlsDir();
  const ca = fs.readFileSync(`${tls.dir}/ca.crt`);
  const keyless = await startFixture('bench/servers/keyless-data.ts', { KEYLESS_BENCH_TLS_DIR: tls.dir });
  let azurite: Awaited<ReturnType<typeof startAzurite>> | undefined;
  try {
    azurite = await startAzurite(tls);
    const i = keyless.info;
    const az = (method: 'GET' | 'PUT', p: string, extra: { contentLength?: number; extra?: Record<string, string> } = {}) =>
      sharedKeyHeaders({ account: AZURITE_ACCOUNT, key: AZURITE_KEY, method, canonicalPath: `/${AZURITE_ACCOUNT}/${AZURITE_ACCOUNT}${p}`, ...extra });
    const ks = (method: 'GET' | 'PUT', p: string, extra: { contentLength?: number; extra?: Record<string, string> } = {}) => ({
      host: i.blobHost,
      ...sharedKeyHeaders({ account: 'benchsa', key: i.accountKey, method, canonicalPath: `/benchsa${p}`, ...extra }),
    });
    const bearer = (extra: Record<string, string> = {}) => ({ host: i.blobHost, authorization: `Bearer ${i.reader.blob}`, 'x-ms-version': '2021-12-02', 'x-ms-date': new Date().toUTCString(), ...extra });
    const block = { 'x-ms-blob-type': 'BlockBlob' };

    // Azurite's side of the fixture: a container and the 4 KiB blob.
    const must = async (p: Promise<{ status: number; text: string }>, what: string) => {
      const r = await p;
      if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.text.slice(0, 300)}`);
    };
    await must(request(`${azurite.url}/bench?restype=container`, { method: 'PUT', headers: az('PUT', '/bench\nrestype:container'), ca }), 'azurite container');
    await must(request(`${azurite.url}/bench/b4k`, { method: 'PUT', headers: az('PUT', '/bench/b4k', { contentLength: KiB4.length, extra: block }), body: KiB4, ca }), 'azurite blob');

    const keylessUrl = (p: string) => `https://127.0.0.1:${i.port}${p}`;
    const servername = i.blobHost.split(':')[0];
    // autocannon writes Content-Length for a body itself; a second one would make the request malformed.
    const putOpts = (url: string, { 'content-length': _, ...headers }: Record<string, string>) => ({ url, method: 'PUT' as const, headers, body: MiB, connections: 8, servername });
    const r = await compareLoads(
      {
        azGet: { url: `${azurite.url}/bench/b4k`, headers: az('GET', '/bench/b4k') },
        ksGet: { url: keylessUrl('/bench/b4k'), headers: ks('GET', '/bench/b4k'), servername },
        kbGet: { url: keylessUrl('/bench/b4k'), headers: bearer(), servername },
        azPut: putOpts(`${azurite.url}/bench/b1m`, az('PUT', '/bench/b1m', { contentLength: MiB.length, extra: block })),
        ksPut: putOpts(keylessUrl('/bench/b1m'), ks('PUT', '/bench/b1m', { contentLength: MiB.length, extra: block })),
        kbPut: putOpts(keylessUrl('/bench/b1m'), bearer(block)),
      },
      runs,
      seconds,
    );
    return [
      `### Blob vs Azurite (\`npm run bench -- --only blob --runs ${runs} --seconds ${seconds}\`)`,
      '',
      `Machine: ${machine()}. autocannon, keep-alive, ${seconds} s per measurement, median of ${runs} runs; GET 16 connections, PUT 8 connections.`,
      `Both over HTTPS (server certificates from the same CA); Azurite ${azuriteVersion()} blob service in its own process with its data in a temp dir`,
      '(`--loose --skipApiVersionCheck --silent`), Shared Key with the well-known development account. Keyless: host-style account URL, Shared Key with',
      'the account key, and a bearer token of an app holding Storage Blob Data Contributor on the account (token obtained once). Every PUT overwrites the same blob.',
      '',
      ...LOAD_TABLE_HEAD,
      loadRow('Azurite GET 4 KiB (Shared Key)', r['azGet']!),
      loadRow('Keyless GET 4 KiB (Shared Key)', r['ksGet']!, r['azGet'], 'Azurite', '≥ 1.0×'),
      loadRow('Keyless GET 4 KiB (bearer + RBAC)', r['kbGet']!, r['azGet'], 'Azurite', '≥ 1.0×'),
      loadRow('Azurite PUT 1 MiB (Shared Key)', r['azPut']!),
      loadRow('Keyless PUT 1 MiB (Shared Key)', r['ksPut']!, r['azPut'], 'Azurite', '≥ 1.0×'),
      loadRow('Keyless PUT 1 MiB (bearer + RBAC)', r['kbPut']!, r['azPut'], 'Azurite', '≥ 1.0×'),
      '',
    ].join('\n');
  } finally {
    await azurite?.stop();
    await keyless.stop();
    tls.dispose();
  }
}

function azuriteVersion(): string {
  const req = createRequire(import.meta.url);
  return String((req('azurite/package.json') as { version: string }).version);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write((await benchBlob(numArg('runs', 5), numArg('seconds', 5))) + '\n');
}
