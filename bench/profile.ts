/**
 * Profiling harness for the hot paths (issue 8): loads one endpoint of a Keyless fixture started under
 * `node --cpu-prof`, then prints the functions with the most self time (the profile stays in the temp dir named).
 *
 *   npx tsx bench/profile.ts token [--seconds 10]   client_credentials (v2) on the token endpoint
 *   npx tsx bench/profile.ts kv                     Key Vault get-secret with a bearer token (verification + decision)
 *   npx tsx bench/profile.ts arm                    ARM GET of a resource group (verification + decision)
 *   npx tsx bench/profile.ts blob-put|blob-put-bearer  Blob PUT 1 MiB with Shared Key / a bearer token (8 connections, as bench/blob.ts)
 *   npx tsx bench/profile.ts blob-get|blob-get-bearer  Blob GET 4 KiB with Shared Key / a bearer token
 *   … --no-prof                                      the same load without the profiler (for before/after req/s)
 *
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type autocannon from 'autocannon';
import { benchTlsDir, fmt, load, numArg, startFixture } from './lib.js';
import { sharedKeyHeaders } from './shared-key.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Self time per function (µs), largest first. */
export function topSelfTime(file: string, n = 25): { name: string; ms: number; pct: number }[] {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byNode = new Map<number, number>();
  prof.samples.forEach((id, i) => byNode.set(id, (byNode.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
  const byFn = new Map<string, number>();
  let total = 0;
  for (const node of prof.nodes) {
    const us = byNode.get(node.id) ?? 0;
    total += us;
    const f = node.callFrame;
    const where = f.url ? `${f.url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '')}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    byFn.set(key, (byFn.get(key) ?? 0) + us);
  }
  return [...byFn.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, ms: us / 1000, pct: (100 * us) / total }));
}

const target = process.argv[2] ?? 'token';
const seconds = numArg('seconds', 10);
const profDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-prof-'));
const tls = await benchTlsDir();
// --no-prof: the same load without the profiler's overhead, for before/after numbers.
const profiling = !process.argv.includes('--no-prof');
const fixture = await startFixture('bench/servers/keyless-data.ts', { KEYLESS_BENCH_TLS_DIR: tls.dir }, { nodeArgs: profiling ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [] });
const i = fixture.info;
const base = `https://127.0.0.1:${i.port}`;
const MiB = Buffer.alloc(1024 * 1024, 'm');
const blobHost = String(i.blobHost);
const servername = blobHost.split(':')[0];
const blockBlob = { 'x-ms-blob-type': 'BlockBlob' };
const blobSharedKey = (method: 'GET' | 'PUT', p: string, extra: { contentLength?: number; extra?: Record<string, string> } = {}) => ({
  host: blobHost,
  ...sharedKeyHeaders({ account: 'benchsa', key: String(i.accountKey), method, canonicalPath: `/benchsa${p}`, ...extra }),
});
const blobBearer = (extra: Record<string, string> = {}) => ({ host: blobHost, authorization: `Bearer ${i.reader.blob}`, 'x-ms-version': '2021-12-02', 'x-ms-date': new Date().toUTCString(), ...extra });
// autocannon writes Content-Length for a body itself; a second one would make the request malformed.
const blobPut = ({ 'content-length': _, ...headers }: Record<string, string>): autocannon.Options => ({ url: `${base}/bench/b1m`, method: 'PUT', headers, body: MiB, connections: 8, servername });
const targets: Record<string, autocannon.Options> = {
  'blob-put': blobPut(blobSharedKey('PUT', '/bench/b1m', { contentLength: MiB.length, extra: blockBlob })),
  'blob-put-bearer': blobPut(blobBearer(blockBlob)),
  'blob-get': { url: `${base}/bench/b4k`, headers: blobSharedKey('GET', '/bench/b4k'), servername },
  'blob-get-bearer': { url: `${base}/bench/b4k`, headers: blobBearer(), servername },
  token: {
    url: `${base}/${i.tenantId}/oauth2/v2.0/token`,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: i.reader.clientId, client_secret: i.reader.clientSecret, scope: 'https://vault.azure.net/.default' }).toString(),
  },
  kv: { url: `${base}/secrets/db-password?api-version=7.4`, headers: { host: i.vaultHost, authorization: `Bearer ${i.reader.kv}` } },
  arm: { url: `${base}${i.rg}?api-version=2021-04-01`, headers: { host: `management.${i.suffix}:${i.port}`, authorization: `Bearer ${i.adminArm}` } },
};
const opts = targets[target];
if (!opts) throw new Error(`unknown target ${target} (${Object.keys(targets).join(', ')})`);
await load({ ...opts, duration: 2 }); // warm-up
const r = await load({ ...opts, duration: seconds });
await fixture.stop();
tls.dispose();
if (r.non2xx || r.errors) throw new Error(`${r.non2xx} non-2xx, ${r.errors} errors`);
const file = fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
console.log(`${target}: ${fmt(r.rps)} req/s, p99 ${r.p99ms} ms (${seconds} s, ${opts.connections ?? 16} connections)${file ? `; profile ${path.join(profDir, file)}` : ''}`);
if (!file) fs.rmSync(profDir, { recursive: true, force: true });
for (const t of file ? topSelfTime(path.join(profDir, file)) : []) console.log(`  ${t.pct.toFixed(1).padStart(5)} %  ${fmt(t.ms).padStart(6)} ms  ${t.name}`);
