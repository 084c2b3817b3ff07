/**
 * Bench fixture: a Keyless with the data planes set up, printing what the load generators need (one JSON line).
 *
 *   KEYLESS_BENCH_TLS_DIR       shared TLS dir (so the baselines serve the same kind of certificate)
 *   KEYLESS_BENCH_DATABASE_URL  PostgreSQL instead of SQLite (replicas); KEYLESS_BENCH_MASTER_KEY_FILE shared key
 *   BENCH_SETUP=0               join an existing tenant without creating anything (a second replica)
 *   KEYLESS_BENCH_DATA_DIR      keep the store in this directory, and leave it there on stop (a store grown by one
 *                               run, reopened by another)
 *
 * Setup: a VM with a system identity (IMDS); an RBAC vault with one secret; a storage account with a container
 * and a 4 KiB blob; app `bench-reader` (Key Vault Secrets User on the vault, Storage Blob Data Contributor on
 * the account) and app `bench-writer` (Key Vault Secrets Officer), each with a token obtained once.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import inspector from 'node:inspector/promises';
import v8 from 'node:v8';
import BetterSqlite3 from 'better-sqlite3';
import { monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';
import { startKeyless } from '../../src/index.js';
import { request, type Reply } from '../lib.js';
import { statCpuMicros } from '../open-loop.js';
import { sharedKeyHeaders } from '../shared-key.js';

const env = process.env;
const k = await startKeyless({
  logLevel: 'silent',
  tlsDir: env['KEYLESS_BENCH_TLS_DIR'],
  ...(env['KEYLESS_BENCH_DATA_DIR'] ? { dataDir: env['KEYLESS_BENCH_DATA_DIR'] } : {}),
  ...(env['KEYLESS_BENCH_DATABASE_URL'] ? { databaseUrl: env['KEYLESS_BENCH_DATABASE_URL'], masterKeyFile: env['KEYLESS_BENCH_MASTER_KEY_FILE'] } : {}),
});
const ca = fs.readFileSync(k.caFile);
const port = Number(new URL(k.endpoints.resourceManager).port);
const suffix = k.config.dnsSuffix;
const call = async (method: string, url: string, headers: Record<string, string> = {}, body?: string | Buffer, also?: number): Promise<Reply> => {
  const r = await request(url, { method, headers, ca, connectTo: '127.0.0.1', ...(body === undefined ? {} : { body }) });
  if (r.status >= 300 && r.status !== also) throw new Error(`${method} ${url}: ${r.status} ${r.text.slice(0, 300)}`);
  return r;
};
const token = async (clientId: string, secret: string, scope: string): Promise<string> => {
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret, scope });
  return (await call('POST', `${k.endpoints.authority}/oauth2/v2.0/token`, { 'content-type': 'application/x-www-form-urlencoded' }, form.toString())).json.access_token;
};

const info: Record<string, unknown> = { port, pid: process.pid, tenantId: k.tenantId, authority: k.endpoints.authority, arm: k.endpoints.resourceManager, suffix };
if (env['BENCH_SETUP'] !== '0') {
  // A reopened store shows its admin secret only in the file the first start wrote. (A joining replica has neither,
  // and needs neither: it sets nothing up.)
  const adminSecret = k.admin.clientSecret ?? (JSON.parse(fs.readFileSync(k.adminFile, 'utf8')) as { clientSecret: string }).clientSecret;
  const adminArm = await token(k.admin.clientId, adminSecret, `${k.endpoints.armAudience}.default`);
  const armAuth = { authorization: `Bearer ${adminArm}`, 'content-type': 'application/json' };
  const rg = `/subscriptions/${k.subscriptionId}/resourceGroups/bench`;
  const put = (id: string, api: string, body: unknown) => call('PUT', `${k.endpoints.resourceManager}${id}?api-version=${api}`, armAuth, JSON.stringify(body));
  await put(rg, '2021-04-01', { location: 'westeurope' });
  const vm = (await put(`${rg}/providers/Microsoft.Compute/virtualMachines/vm1`, '2024-07-01', { location: 'westeurope', identity: { type: 'SystemAssigned' } })).json;
  const vaultId = `${rg}/providers/Microsoft.KeyVault/vaults/benchkv`;
  await put(vaultId, '2024-11-01', { location: 'westeurope', properties: { tenantId: k.tenantId, sku: { family: 'A', name: 'standard' }, accessPolicies: [], enableRbacAuthorization: true } });
  const accountId = `${rg}/providers/Microsoft.Storage/storageAccounts/benchsa`;
  await put(accountId, '2023-01-01', { location: 'westeurope', kind: 'StorageV2', sku: { name: 'Standard_LRS' }, properties: {} });
  const accountKey = (await call('POST', `${k.endpoints.resourceManager}${accountId}/listKeys?api-version=2023-01-01`, armAuth)).json.keys[0].value as string;

  const reader = await k.createApplication('bench-reader');
  const writer = await k.createApplication('bench-writer');
  await k.assignRole({ principalId: reader.objectId, role: 'Key Vault Secrets User', scope: vaultId, principalType: 'ServicePrincipal' });
  await k.assignRole({ principalId: reader.objectId, role: 'Storage Blob Data Contributor', scope: accountId, principalType: 'ServicePrincipal' });
  await k.assignRole({ principalId: writer.objectId, role: 'Key Vault Secrets Officer', scope: vaultId, principalType: 'ServicePrincipal' });
  await k.assignRole({ principalId: writer.objectId, role: 'Storage Blob Data Contributor', scope: accountId, principalType: 'ServicePrincipal' });
  const vaultHost = `benchkv.vault.${suffix}:${port}`;
  const blobHost = `benchsa.blob.${suffix}:${port}`;
  const readerKv = await token(reader.clientId, reader.clientSecret, 'https://vault.azure.net/.default');
  const writerKv = await token(writer.clientId, writer.clientSecret, 'https://vault.azure.net/.default');
  const readerBlob = await token(reader.clientId, reader.clientSecret, 'https://storage.azure.com/.default');
  const writerBlob = await token(writer.clientId, writer.clientSecret, 'https://storage.azure.com/.default');
  // RBAC for a just-created role assignment is immediate in Keyless, so the writes below need no retry.
  await call('PUT', `https://${vaultHost}/secrets/db-password?api-version=7.4`, { authorization: `Bearer ${writerKv}`, 'content-type': 'application/json' }, JSON.stringify({ value: 'correct-horse-battery-staple-0123456789' }));
  await call('PUT', `https://${blobHost}/bench?restype=container`, sharedKeyHeaders({ account: 'benchsa', key: accountKey, method: 'PUT', canonicalPath: '/benchsa/bench\nrestype:container' }), undefined, 409); // 409: a reopened store has it
  const blob4k = Buffer.alloc(4096, 'k');
  await call('PUT', `https://${blobHost}/bench/b4k`, sharedKeyHeaders({ account: 'benchsa', key: accountKey, method: 'PUT', canonicalPath: '/benchsa/bench/b4k', contentLength: blob4k.length, extra: { 'x-ms-blob-type': 'BlockBlob' } }), blob4k);

  const imds = k.imdsEndpoint(vm.id)!;
  Object.assign(info, {
    subscriptionId: k.subscriptionId,
    rg,
    adminArm,
    admin: { clientId: k.admin.clientId, clientSecret: adminSecret, scope: `${k.endpoints.armAudience}.default` },
    imds,
    imdsPath: '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net',
    vaultHost,
    blobHost,
    accountKey,
    reader: { ...reader, kv: readerKv, blob: readerBlob },
    writer: { ...writer, kv: writerKv, blob: writerBlob },
  });
}
process.stdout.write(JSON.stringify(info) + '\n');
if (env['BENCH_DIAG']) startDiagnostics(env['BENCH_DIAG'], k.dataDir);
let profiler: inspector.Session | undefined;
process.on('message', (m: { op?: string; file?: string }) => {
  if (m.op === 'gc') {
    globalThis.gc?.();
    process.send!({ heapMb: process.memoryUsage().heapUsed / 2 ** 20 });
  } else if (m.op === 'micro') {
    process.send!(microBench());
  } else if (m.op === 'profile-start') {
    // A CPU profile of a chosen window only (--cpu-prof would take the whole life, warm-up and soak included).
    void (async () => {
      profiler = new inspector.Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: 250 });
      await profiler.post('Profiler.start');
    })().then(
      () => process.send!({ ok: true }),
      () => process.send!({ ok: false }),
    );
  } else if (m.op === 'profile-stop' && profiler) {
    const session = profiler;
    profiler = undefined;
    void session
      .post('Profiler.stop')
      .then(({ profile }) => fs.writeFileSync(m.file!, JSON.stringify(profile)))
      .then(
        () => process.send!({ ok: true }),
        () => process.send!({ ok: false }),
      )
      .finally(() => session.disconnect());
  }
});
process.on('SIGTERM', () => void k.stop().then(() => process.exit(0)));

/**
 * BENCH_DIAG=file: once a minute, one JSON line of what can stall the event loop — its delay histogram and
 * utilisation, garbage collections by kind, the heap, and the store's file sizes — to tell a soak's tail apart.
 */
function startDiagnostics(file: string, dataDir: string): void {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const gc = new Map<number, { n: number; ms: number; max: number; over10: number }>();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = ((e as unknown as { detail?: { kind?: number } }).detail)?.kind ?? 0;
      const g = gc.get(kind) ?? { n: 0, ms: 0, max: 0, over10: 0 };
      g.n++;
      g.ms += e.duration;
      g.max = Math.max(g.max, e.duration);
      if (e.duration > 10) g.over10++;
      gc.set(kind, g);
    }
  }).observe({ entryTypes: ['gc'] });
  const sql = timeStatements();
  let elu = performance.eventLoopUtilization();
  let usage = process.resourceUsage();
  let threads = threadCpuMs();
  const size = (f: string) => (fs.statSync(f, { throwIfNoEntry: false })?.size ?? 0) / 2 ** 20;
  setInterval(() => {
    const now = performance.eventLoopUtilization();
    const u = performance.eventLoopUtilization(now, elu);
    elu = now;
    const q = (p: number) => delay.percentile(p) / 1e6;
    const line = {
      t: new Date().toISOString(),
      elu: +u.utilization.toFixed(4),
      delayMs: { p50: q(50), p99: q(99), p999: q(99.9), max: delay.max / 1e6 },
      gc: Object.fromEntries([...gc].map(([k2, g]) => [k2, { ...g, ms: +g.ms.toFixed(1), max: +g.max.toFixed(1) }])),
      heapMb: +(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1),
      newSpaceMb: +((v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space')?.space_size ?? 0) / 2 ** 20).toFixed(1),
      // Page faults and context switches (involuntary: the kernel took the core away) and each thread's CPU.
      usage: usageDelta(usage, (usage = process.resourceUsage())),
      threadCpuMs: cpuDelta(threads, (threads = threadCpuMs())),
      rssMb: +(process.memoryUsage().rss / 2 ** 20).toFixed(1),
      dbMb: +size(`${dataDir}/keyless.db`).toFixed(1),
      walMb: +size(`${dataDir}/keyless.db-wal`).toFixed(1),
      checkpoints: { ...k.store.checkpointer?.stats },
      sql: [...sql]
        .sort((a, b) => b[1].ms - a[1].ms)
        .slice(0, 8)
        .map(([text, t]) => ({ sql: text, n: t.n, ms: +t.ms.toFixed(1), max: +t.max.toFixed(2), over2: t.over2 })),
    };
    sql.clear();
    const cs = k.store.checkpointer?.stats;
    if (cs) cs.longestPassiveMs = cs.longestRestartMs = 0;
    fs.appendFileSync(file, JSON.stringify(line) + '\n');
    delay.reset();
    gc.clear();
  }, 60_000).unref();
}

/**
 * The same fixed work in any process, code that no request runs: if an aged process does it slower too, what aged is
 * the process (its heaps, its allocator), not the request handlers' compiled code. Median ns per op of 7 batches.
 */
function microBench(): Record<string, number> {
  const doc = { id: '/subscriptions/x/resourceGroups/y', tags: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, `value-${i}`])), n: [1, 2, 3] };
  const key = Buffer.alloc(32, 7);
  const kb = Buffer.alloc(1024, 'x');
  const db = new BetterSqlite3(':memory:');
  db.exec('create table t (k text primary key, v text)');
  const ins = db.prepare('insert into t values (?, ?)');
  for (let i = 0; i < 1000; i++) ins.run(`key-${i}`, 'v'.repeat(200));
  const sel = db.prepare('select v from t where k = ?');
  const cases: Record<string, [number, (i: number) => unknown]> = {
    json: [2000, () => JSON.parse(JSON.stringify(doc))],
    hmac: [5000, () => crypto.createHmac('sha256', key).update(kb).digest()],
    sqlite: [20000, (i) => sel.get(`key-${i % 1000}`)],
    alloc: [200, () => {
      const m = new Map<string, { a: number; b: string }>();
      for (let j = 0; j < 500; j++) m.set(`k${j}`, { a: j, b: 'x' });
      return m.size;
    }],
  };
  const out: Record<string, number> = {};
  for (const [name, [n, f]] of Object.entries(cases)) {
    const runs: number[] = [];
    for (let b = 0; b < 7; b++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) f(i);
      runs.push(Number(process.hrtime.bigint() - t0) / n);
    }
    out[name] = runs.sort((a, b) => a - b)[3]!;
  }
  db.close();
  return out;
}

function usageDelta(a: NodeJS.ResourceUsage, b: NodeJS.ResourceUsage): Record<string, number> {
  const keys = ['minorPageFault', 'majorPageFault', 'voluntaryContextSwitches', 'involuntaryContextSwitches', 'userCPUTime', 'systemCPUTime'] as const;
  return Object.fromEntries(keys.map((k2) => [k2, b[k2] - a[k2]]));
}

/** CPU time (user + system, ms) of each of this process's threads, from /proc (Linux). */
function threadCpuMs(): Map<string, number> {
  // Node 20 names every thread "node": the main thread is the one whose id is the process's.
  return new Map(fs.readdirSync('/proc/self/task').map((tid) => [tid === String(process.pid) ? 'main' : `thread ${tid}`, statCpuMicros(`/proc/self/task/${tid}/stat`) / 1000]));
}

/** Each thread's CPU since `a`, ms, threads that used none left out. */
function cpuDelta(a: Map<string, number>, b: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...b].map(([n, ms]) => [n, ms - (a.get(n) ?? 0)] as const).filter(([, ms]) => ms > 0));
}

/** Wraps better-sqlite3's Statement methods to time every statement by SQL text (the diagnostics above). */
function timeStatements(): Map<string, { n: number; ms: number; max: number; over2: number }> {
  const byText = new Map<string, { n: number; ms: number; max: number; over2: number }>();
  const proto = Object.getPrototypeOf(new BetterSqlite3(':memory:').prepare('select 1')) as Record<string, (...a: unknown[]) => unknown>;
  for (const m of ['run', 'all', 'get']) {
    const orig = proto[m]!;
    proto[m] = function (this: { source: string }, ...args: unknown[]) {
      const t0 = performance.now();
      try {
        return orig.apply(this, args);
      } finally {
        const ms = performance.now() - t0;
        const key = this.source.slice(0, 70);
        const t = byText.get(key) ?? { n: 0, ms: 0, max: 0, over2: 0 };
        t.n++;
        t.ms += ms;
        if (ms > t.max) t.max = ms;
        if (ms > 2) t.over2++;
        byText.set(key, t);
      }
    };
  }
  return byText;
}
