/**
 * Soak (issue 9): mixed load for `--minutes N` (default 30) against one Keyless — IMDS tokens, ARM reads and
 * writes, Key Vault get/set, Blob get/put — sampling the server's RSS and each minute's p99. Passes when neither
 * grows more than 10 % from minute 2 to the end (p99: minute 2 vs the median of the last three minutes, which
 * keeps one noisy minute on a shared machine from deciding). Run on demand, not part of `npm run bench`:
 *
 *   npm run bench -- --only soak --minutes 30      (or: npx tsx bench/soak.ts --minutes 30)
 *
 * Writes bench/SOAK.md (which `npm run bench` includes) and replaces the Soak section of BENCHMARKS.md if
 * there is one. Exits 1 when growth exceeds 10 %.
 */
import fs from 'node:fs';
import type autocannon from 'autocannon';
import { benchTlsDir, fmt, load, machine, median, numArg, request, rssMb, startFixture, type LoadResult } from './lib.js';

const GROWTH_LIMIT = 0.1;
export const SOAK_FILE = 'bench/SOAK.md';

interface Minute {
  minute: number;
  rssMb: number;
  p99ms: number;
  rps: number;
  imdsRps: number;
}

export async function runSoak(minutes: number, minuteSeconds = 60): Promise<{ section: string; ok: boolean }> {
  const tls = await benchTlsDir();
  const ca = fs.readFileSync(`${tls.dir}/ca.crt`);
  const keyless = await startFixture('bench/servers/keyless-data.ts', { KEYLESS_BENCH_TLS_DIR: tls.dir });
  const rows: Minute[] = [];
  try {
    const i = keyless.info;
    const token = async (c: { clientId: string; clientSecret: string }, scope: string): Promise<string> => {
      const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret, scope }).toString();
      const r = await request(`${i.authority}/oauth2/v2.0/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, ca, connectTo: '127.0.0.1' });
      if (r.status !== 200) throw new Error(`token: ${r.status} ${r.text.slice(0, 200)}`);
      return r.json.access_token;
    };
    const blob4k = 'p'.repeat(4096);
    for (let m = 1; m <= minutes; m++) {
      // Fresh tokens every minute: app tokens live an hour, and the token endpoint is part of the mix.
      const armT = await token(i.admin, i.admin.scope);
      const kvT = await token(i.writer, 'https://vault.azure.net/.default');
      const blobT = await token(i.reader, 'https://storage.azure.com/.default');
      const date = new Date().toUTCString();
      const kvH = { host: i.vaultHost, authorization: `Bearer ${kvT}`, 'content-type': 'application/json' };
      const blobH = { host: i.blobHost, authorization: `Bearer ${blobT}`, 'x-ms-version': '2021-12-02', 'x-ms-date': date };
      const armH = { host: `management.${i.suffix}:${i.port}`, authorization: `Bearer ${armT}`, 'content-type': 'application/json' };
      const requests: autocannon.Request[] = [
        { method: 'GET', path: `${i.rg}?api-version=2021-04-01`, headers: armH },
        { method: 'PUT', path: `${i.rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/soak-id?api-version=2023-01-31`, headers: armH, body: JSON.stringify({ location: 'westeurope', tags: { minute: String(m) } }) },
        { method: 'GET', path: '/secrets/db-password?api-version=7.4', headers: kvH },
        { method: 'PUT', path: '/secrets/soak?api-version=7.4', headers: kvH, body: JSON.stringify({ value: `minute-${m}` }) },
        { method: 'GET', path: '/bench/b4k', headers: blobH },
        { method: 'PUT', path: '/bench/soak', headers: { ...blobH, 'x-ms-blob-type': 'BlockBlob' }, body: blob4k },
      ];
      const [mixed, imds] = await Promise.all([
        load({ url: `https://127.0.0.1:${i.port}`, connections: 6, duration: minuteSeconds, requests }),
        load({
          url: i.imds,
          connections: 2,
          duration: minuteSeconds,
          requests: [
            { method: 'GET', path: i.imdsPath, headers: { Metadata: 'true' } },
            { method: 'GET', path: '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fstorage.azure.com', headers: { Metadata: 'true' } },
          ],
        }),
      ]);
      failOnErrors(`minute ${m} mixed`, mixed);
      failOnErrors(`minute ${m} IMDS`, imds);
      rows.push({ minute: m, rssMb: rssMb(i.pid), p99ms: mixed.p99ms, rps: mixed.rps, imdsRps: imds.rps });
      process.stderr.write(`soak: minute ${m}/${minutes}: RSS ${fmt(rows.at(-1)!.rssMb)} MB, p99 ${mixed.p99ms} ms, ${fmt(mixed.rps)} req/s + IMDS ${fmt(imds.rps)} req/s\n`);
    }
  } finally {
    await keyless.stop();
    tls.dispose();
  }
  const from = rows[Math.min(1, rows.length - 1)]!;
  const tail = rows.slice(Math.max(1, rows.length - 3));
  const rssGrowth = rows.at(-1)!.rssMb / from.rssMb - 1;
  const p99Growth = median(tail.map((r) => r.p99ms)) / from.p99ms - 1;
  const ok = rssGrowth <= GROWTH_LIMIT && p99Growth <= GROWTH_LIMIT;
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)} %`;
  const section = [
    `### Soak (\`npm run bench -- --only soak --minutes ${minutes}\`)`,
    '',
    `Run ${new Date().toISOString()}. Machine: ${machine()}. One Keyless (SQLite) in its own process; each minute: fresh app tokens from the`,
    `token endpoint, then ${minuteSeconds} s of autocannon with 6 connections cycling ARM GET group / PUT identity, Key Vault GET / PUT secret (a new version`,
    'every time), Blob GET 4 KiB / PUT 4 KiB, plus 2 connections on IMDS (two audiences). RSS is /proc VmRSS at the end of each minute.',
    '',
    '| minute | RSS MB | p99 ms (mixed) | req/s (mixed) | req/s (IMDS) |',
    '|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.minute} | ${fmt(r.rssMb)} | ${fmt(r.p99ms, 1)} | ${fmt(r.rps)} | ${fmt(r.imdsRps)} |`),
    '',
    `Growth from minute ${from.minute} to the end: RSS ${pct(rssGrowth)}, p99 ${pct(p99Growth)} (median of the last ${tail.length} minutes) — limit +10 %: **${ok ? 'pass' : 'FAIL'}**.`,
    '',
  ].join('\n');
  return { section, ok };
}

function failOnErrors(what: string, r: LoadResult): void {
  if (r.non2xx || r.errors) throw new Error(`${what}: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
}

/** Puts the soak section into BENCHMARKS.md in place of an earlier one (or before the notes). */
export function recordSoak(section: string): void {
  fs.writeFileSync(SOAK_FILE, section);
  if (!fs.existsSync('BENCHMARKS.md')) return;
  const doc = fs.readFileSync('BENCHMARKS.md', 'utf8');
  const start = doc.indexOf('### Soak');
  let next: number;
  let out: string;
  if (start >= 0) {
    const after = doc.slice(start + 1).search(/\n(### |## )/);
    next = after < 0 ? doc.length : start + 1 + after + 1;
    out = doc.slice(0, start) + section + '\n' + doc.slice(next);
  } else {
    const notes = doc.indexOf('\n## Notes');
    out = notes < 0 ? `${doc}\n${section}` : `${doc.slice(0, notes + 1)}${section}\n${doc.slice(notes + 1)}`;
  }
  fs.writeFileSync('BENCHMARKS.md', out);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { section, ok } = await runSoak(numArg('minutes', 30), numArg('minute-seconds', 60));
  recordSoak(section);
  process.stdout.write(section + '\n');
  process.exitCode = ok ? 0 : 1;
}
