/**
 * 1 vs 2 replicas over one PostgreSQL database (a throwaway database on 127.0.0.1:5432): client-credentials token
 * endpoint and Key Vault get-secret, all load through one replica vs split across two (two autocannon instances
 * at once, half the connections each). On a 2-core machine the second replica competes with the first and
 * with the load generator for the same cores; see docs/scale-out.md.
 * Usage: npx tsx bench/replicas.ts [--runs 5] [--seconds 5]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type autocannon from 'autocannon';
import { benchTlsDir, fmt, load, machine, median, numArg, startFixture, type LoadResult, type Started } from './lib.js';

const ADMIN_URL = process.env['KEYLESS_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function throwawayDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `keyless_bench_${randomBytes(6).toString('hex')}`;
  const c = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  await c.connect();
  await c.query(`create database ${name}`);
  await c.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const d = new pg.Client({ connectionString: ADMIN_URL });
      await d.connect();
      await d.query(`drop database if exists ${name} with (force)`);
      await d.end();
    },
  };
}

/** Both halves at once; throughput adds, latency is the worse of the two. */
async function split(a: autocannon.Options, b: autocannon.Options): Promise<LoadResult> {
  const [x, y] = await Promise.all([load({ ...a, connections: 8 }), load({ ...b, connections: 8 })]);
  return { rps: x.rps + y.rps, p50ms: Math.max(x.p50ms, y.p50ms), p99ms: Math.max(x.p99ms, y.p99ms), non2xx: x.non2xx + y.non2xx, errors: x.errors + y.errors };
}

export async function benchReplicas(runs: number, seconds: number): Promise<string> {
  let db: Awaited<ReturnType<typeof throwawayDatabase>>;
  try {
    db = await throwawayDatabase();
  } catch (e) {
    // As the test suites do: without PostgreSQL the section says so, unless the run requires every tool.
    if (process.env['KEYLESS_REQUIRE_ALL'] === '1') throw e;
    return `### 1 vs 2 replicas over PostgreSQL\n\nNot measured: PostgreSQL at ${ADMIN_URL.replace(/:[^@/]*@/, ':***@')} is unreachable (${(e as Error).message}).\n`;
  }
  const tls = await benchTlsDir();
  const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-bench-replicas-'));
  const env = { KEYLESS_BENCH_TLS_DIR: tls.dir, KEYLESS_BENCH_DATABASE_URL: db.url, KEYLESS_BENCH_MASTER_KEY_FILE: path.join(shared, 'master.key') };
  const replicas: Started[] = [];
  try {
    // The first replica bootstraps the tenant and sets up the vault; the second joins the same database.
    replicas.push(await startFixture('bench/servers/keyless-data.ts', env));
    replicas.push(await startFixture('bench/servers/keyless-data.ts', { ...env, BENCH_SETUP: '0' }));
    const i = replicas[0]!.info;
    const ports = replicas.map((r) => r.info.port as number);
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: i.reader.clientId, client_secret: i.reader.clientSecret, scope: 'https://vault.azure.net/.default' }).toString();
    const tokenOpts = (port: number): autocannon.Options => ({
      url: `https://127.0.0.1:${port}/${i.tenantId}/oauth2/v2.0/token`,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    const vaultName = String(i.vaultHost).split(':')[0]!;
    const kvOpts = (port: number): autocannon.Options => ({
      url: `https://127.0.0.1:${port}/secrets/db-password?api-version=7.4`,
      headers: { host: `${vaultName}:${port}`, authorization: `Bearer ${i.reader.kv}` },
      servername: vaultName,
    });
    const results: Record<string, LoadResult[]> = { token1: [], token2: [], kv1: [], kv2: [] };
    const check = (name: string, r: LoadResult) => {
      if (r.non2xx || r.errors) throw new Error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
      results[name]!.push(r);
    };
    for (let r = 0; r < runs; r++) {
      check('token1', await load({ ...tokenOpts(ports[0]!), duration: seconds }));
      check('token2', await split({ ...tokenOpts(ports[0]!), duration: seconds }, { ...tokenOpts(ports[1]!), duration: seconds }));
      check('kv1', await load({ ...kvOpts(ports[0]!), duration: seconds }));
      check('kv2', await split({ ...kvOpts(ports[0]!), duration: seconds }, { ...kvOpts(ports[1]!), duration: seconds }));
    }
    const rps = (k: string) => median(results[k]!.map((x) => x.rps));
    const p99 = (k: string) => median(results[k]!.map((x) => x.p99ms));
    const row = (label: string, k: string, base?: string) =>
      `| ${label} | ${fmt(rps(k))} | ${fmt(p99(k), 1)} | ${base ? `${(rps(k) / rps(base)).toFixed(2)}×` : '1.00'} | ${results[k]!.map((x) => fmt(x.rps)).join(', ')} |`;
    return [
      `### 1 vs 2 replicas over PostgreSQL (\`npm run bench -- --only replicas --runs ${runs} --seconds ${seconds}\`)`,
      '',
      `Machine: ${machine()} (${os.cpus().length} cores shared by both replicas, PostgreSQL and the load generator). One throwaway database on`,
      `127.0.0.1:5432; replicas started with startKeyless (shared master key), each in its own process. 16 connections in total: all on replica 1,`,
      `or 8 + 8 on two autocannon instances at once. ${seconds} s per measurement, median of ${runs} runs.`,
      '',
      '| case | req/s (median) | p99 ms (median) | vs 1 replica | runs (req/s) |',
      '|---|---:|---:|---:|---|',
      row('token endpoint (client_credentials, v2), 1 replica', 'token1'),
      row('token endpoint (client_credentials, v2), 2 replicas', 'token2', 'token1'),
      row('Key Vault get-secret (bearer + RBAC), 1 replica', 'kv1'),
      row('Key Vault get-secret (bearer + RBAC), 2 replicas', 'kv2', 'kv1'),
      '',
      `With ${os.cpus().length} cores this shows that a second replica serves the same tenant correctly under load (every answer above was a 2xx from a`,
      'token or secret the other replica created), not scale-out throughput: both replicas, PostgreSQL and autocannon share the same CPUs. The hot',
      'paths read in-memory state only, so on separate machines throughput adds up (docs/scale-out.md).',
      '',
    ].join('\n');
  } finally {
    for (const r of replicas.reverse()) await r.stop();
    await db.drop();
    tls.dispose();
    fs.rmSync(shared, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write((await benchReplicas(numArg('runs', 5), numArg('seconds', 5))) + '\n');
}
