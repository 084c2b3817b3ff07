/**
 * IMDS throughput: cached-token requests against a bare node:http server returning the same bytes, and
 * cache-miss issuance (a new audience per request) against a jose RS256 sign loop — all in the same run.
 * Usage: npx tsx bench/imds.ts [runs=5] [seconds=5]
 */
import { generateKeyPair, SignJWT } from 'jose';
import type autocannon from 'autocannon';
import { load, machine, median, startFixture } from './lib.js';
import { ensurePki } from '../src/pki/index.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export async function benchImds(runs = Number(process.env['BENCH_RUNS'] ?? 5), seconds = Number(process.env['BENCH_SECONDS'] ?? 5)): Promise<string> {
  const tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-bench-tls-'));
  await ensurePki({ dir: tlsDir, dnsSuffix: 'keyless.localhost', extraDnsNames: ['localhost'] });
  const keyless = await startFixture('bench/servers/keyless-imds.ts', { KEYLESS_BENCH_TLS_DIR: tlsDir });
  const bare = await startFixture('bench/servers/bare-http.ts', { BENCH_BODY: keyless.info.sample, BENCH_SERVER_HEADER: keyless.info.server ?? '' });
  const rows: Record<string, number[]> = { cached: [], bare: [], miss: [], jose: [] };
  const p99: Record<string, number[]> = { cached: [], bare: [], miss: [] };
  try {
    let n = 0;
    for (let i = 0; i < runs; i++) {
      // Each pair back to back, in alternating order (ABBA…): the shared machine's speed drifts by a third within
      // an hour, and within a pair both see the same machine.
      const cached = () => load({ url: `${keyless.info.imds}${keyless.info.path}`, headers: { Metadata: 'true' }, duration: seconds });
      const plain = () => load({ url: `${bare.info.url}${keyless.info.path}`, headers: { Metadata: 'true' }, duration: seconds });
      let c, b;
      if (i % 2 === 0) {
        c = await cached();
        b = await plain();
      } else {
        b = await plain();
        c = await cached();
      }
      // Every request names a new audience under the DNS suffix, so each one signs a fresh token.
      const m = await load({
        url: keyless.info.imds,
        duration: seconds,
        requests: [{ method: 'GET', headers: { Metadata: 'true' }, setupRequest: (r: autocannon.Request) => ({ ...r, path: `/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://a${n++}.keyless.localhost` }) }],
      });
      if (c.non2xx || b.non2xx || m.non2xx) throw new Error(`non-2xx responses: cached ${c.non2xx}, bare ${b.non2xx}, miss ${m.non2xx}`);
      rows['cached']!.push(c.rps);
      rows['bare']!.push(b.rps);
      rows['miss']!.push(m.rps);
      p99['cached']!.push(c.p99ms);
      p99['bare']!.push(b.p99ms);
      p99['miss']!.push(m.p99ms);
      rows['jose']!.push(await joseSignsPerSecond(seconds));
    }
  } finally {
    await keyless.stop();
    await bare.stop();
    fs.rmSync(tlsDir, { recursive: true, force: true });
  }
  const med = (k: string) => median(rows[k]!);
  // The goal's ratio: the median of the per-pair ratios (each pair measured back to back on the same machine).
  const paired = (a: string, b: string) => median(rows[a]!.map((x, i) => x / rows[b]![i]!));
  const lines = [
    `### IMDS token endpoint (\`npx tsx bench/imds.ts ${runs} ${seconds}\`)`,
    '',
    `Machine: ${machine()}. autocannon, 16 connections, keep-alive, ${seconds} s per measurement, median of ${runs} runs; server and baseline each in their own process.`,
    `Ratio: the median of the ${runs} per-run ratios, each run's pair measured back to back (cached and bare in alternating order, jose right after the misses); the ratio of the medians is in brackets.`,
    '',
    '| case | req/s (median) | p99 ms (median) | ratio | goal |',
    '|---|---:|---:|---:|---:|',
    `| bare node:http, same bytes | ${med('bare').toFixed(0)} | ${median(p99['bare']!).toFixed(1)} | 1.00 | |`,
    `| IMDS, cached token | ${med('cached').toFixed(0)} | ${median(p99['cached']!).toFixed(1)} | ${paired('cached', 'bare').toFixed(2)}× bare (${(med('cached') / med('bare')).toFixed(2)}×) | ≥ 0.7× |`,
    `| jose RS256 SignJWT loop (1 core) | ${med('jose').toFixed(0)} | | 1.00 | |`,
    `| IMDS, cache miss (new audience each request) | ${med('miss').toFixed(0)} | ${median(p99['miss']!).toFixed(1)} | ${paired('miss', 'jose').toFixed(2)}× jose (${(med('miss') / med('jose')).toFixed(2)}×) | ≥ 0.6× |`,
    '',
  ];
  return lines.join('\n');
}

async function joseSignsPerSecond(seconds: number): Promise<number> {
  const { privateKey } = await generateKeyPair('RS256');
  const end = Date.now() + seconds * 1000;
  let n = 0;
  while (Date.now() < end) {
    await new SignJWT({ aud: 'https://vault.azure.net', oid: 'x', tid: 'y' }).setProtectedHeader({ alg: 'RS256', kid: 'k' }).setIssuedAt().setExpirationTime('24h').sign(privateKey);
    n++;
  }
  return n / seconds;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write((await benchImds(Number(process.argv[2] ?? 5), Number(process.argv[3] ?? 5))) + '\n');
}
