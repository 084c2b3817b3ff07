/**
 * Soak diagnosis (issue 9): is a soaked server's slower tail the process's age or the store's size? The soak takes
 * 38 minutes to say "slower than fresh"; this says it in ~17, and takes the two apart.
 *
 *   npx tsx bench/soak-age.ts [options]
 *     --grow-minutes N     grow one Keyless closed loop (autocannon, the soak's mix, 6 + 2 connections) for N minutes
 *                          (default 7: about as many writes as the 30-minute soak makes at its open-loop rate)
 *     --grow-rate R        grow open loop at R req/s instead (the control's own client and request shapes, no autocannon)
 *     --calibrate          first load the grown server as the soak's calibration does (15 s closed loop at saturation)
 *     --calibrate-fresh    and the fresh one too, before its warm-up
 *     --reopen             then stop it and start a new process on its store: the store's size without the age
 *     --read-only          grow with the mix's GETs only: the age without writes (the store stays small)
 *     --rate R             the comparison's rate, req/s, shared between the two servers (default 368)
 *     --minutes M          the comparison's measured minutes (default 5, after 90 s of warm-up)
 *     --profile-minute K   CPU-profile both servers during minute K (bench/soak-age-{grown,fresh}.cpuprofile)
 *     --probe              after the warm-up, each request type's median service time on both servers at a rate with
 *                          no queue, and a fixed in-process micro benchmark in each (code no request runs)
 *     --diag               BENCH_DIAG for both, one JSON line a minute each (bench/soak-age-{grown,fresh}.jsonl)
 *
 * Then the grown server and a fresh one (empty store, its own process) are loaded at the same time, their requests
 * interleaved in one open-loop schedule, as in the soak's control (bench/soak.ts), and the p99 of each server's
 * requests pooled over the minutes is compared. Prints only; findings go to bench/NOTES.md by hand.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ask, benchTlsDir, fmt, numArg, startFixture, type Started } from './lib.js';
import { OpenLoop, quantiles, type Target } from './open-loop.js';
import { CALIBRATION_SECONDS, closedLoopMix, CONTROL_WARMUP_SECONDS, failOnWindowErrors, interleave, mixOf, pooledQuantiles } from './soak.js';

const FIXTURE = 'bench/servers/keyless-data.ts';
const argv = process.argv;
const growMinutes = numArg('grow-minutes', 7);
const growRate = numArg('grow-rate', 0);
const reopen = argv.includes('--reopen');
const readOnly = argv.includes('--read-only');
const rate = numArg('rate', 368);
const minutes = numArg('minutes', 5);
const profileMinute = numArg('profile-minute', 0);
const diag = argv.includes('--diag');
const probe = argv.includes('--probe');
const calibrate = argv.includes('--calibrate');
const calibrateFresh = argv.includes('--calibrate-fresh');

const say = (s: string) => process.stderr.write(`${s}\n`);
// The diagnostics append; a new run starts them afresh.
for (const label of ['grown', 'fresh']) fs.rmSync(`bench/soak-age-${label}.jsonl`, { force: true });
const tls = await benchTlsDir();
const ca = fs.readFileSync(`${tls.dir}/ca.crt`);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-soak-age-'));
const started: Started[] = [];
const start = async (label: 'grown' | 'fresh', env: Record<string, string>): Promise<Started> => {
  const s = await startFixture(FIXTURE, { KEYLESS_BENCH_TLS_DIR: tls.dir, ...env, ...(diag ? { BENCH_DIAG: `bench/soak-age-${label}.jsonl` } : {}) }, { ipc: true });
  started.push(s);
  return s;
};
const client = new OpenLoop({ ca });
try {
  let grown = await start('grown', { KEYLESS_BENCH_DATA_DIR: dataDir });
  const mix = mixOf(grown.info, ca);
  const saturate = async (s: Started, targets: ReturnType<typeof mixOf>) => {
    const { mixed, imds } = await closedLoopMix('calibration', s.info, await targets(0), CALIBRATION_SECONDS);
    say(`calibration: ${fmt(mixed.rps + imds.rps)} req/s closed loop`);
  };
  if (calibrate) await saturate(grown, mix);
  const storeMb = () => fmt(fs.statSync(path.join(dataDir, 'keyless.db')).size / 2 ** 20);
  for (let m = 1; m <= growMinutes; m++) {
    const ts = (await mix(m)).filter((t) => !readOnly || t.method === 'GET');
    if (growRate > 0) {
      const w = await client.run(ts, growRate, 60_000);
      failOnWindowErrors(`grow minute ${m}`, w);
      say(`grow ${m}/${growMinutes}: ${fmt(w.achievedRate)} req/s open loop, p99 ${fmt(quantiles(w.latency).p99, 2)} ms, store ${storeMb()} MB`);
    } else {
      const { mixed, imds } = await closedLoopMix(`grow minute ${m}`, grown.info, ts, 60);
      say(`grow ${m}/${growMinutes}: ${fmt(mixed.rps + imds.rps)} req/s closed loop, store ${storeMb()} MB`);
    }
  }
  if (reopen) {
    await grown.stop();
    started.splice(started.indexOf(grown), 1);
    grown = await start('grown', { KEYLESS_BENCH_DATA_DIR: dataDir });
  }
  const fresh = await start('fresh', {});
  const servers = [
    { label: 'grown', s: grown, targets: mixOf(grown.info, ca) },
    { label: 'fresh', s: fresh, targets: mixOf(fresh.info, ca) },
  ];
  if (calibrateFresh) await saturate(fresh, servers[1]!.targets);
  const both = async (m: number) => Promise.all(servers.map(async (x) => ({ label: x.label, targets: await x.targets(m) })));
  await client.run(interleave(await both(0)), rate, CONTROL_WARMUP_SECONDS * 1000);
  if (probe) await probeBoth(servers, both);
  const pooled = new Map<string, Float64Array[]>(servers.map((x) => [x.label, []]));
  for (let m = 1; m <= minutes; m++) {
    const profile = m === profileMinute;
    if (profile) await Promise.all(servers.map((x) => ask(x.s.child, { op: 'profile-start' })));
    const w = await client.run(interleave(await both(m)), rate, 60_000);
    if (profile) await Promise.all(servers.map((x) => ask(x.s.child, { op: 'profile-stop', file: `bench/soak-age-${x.label}.cpuprofile` })));
    failOnWindowErrors(`minute ${m}`, w);
    for (const x of servers) {
      const g = w.byGroup.get(x.label)!;
      pooled.get(x.label)!.push(g.latency);
      const q = quantiles(g.latency);
      say(`minute ${m}/${minutes}, ${x.label}: p50 ${fmt(q.p50, 2)} / p99 ${fmt(q.p99, 2)} / p99.9 ${fmt(q.p999, 2)} ms`);
    }
  }
  const [pg, pf] = servers.map((x) => pooledQuantiles(pooled.get(x.label)!).p99) as [number, number];
  const what = reopen ? 'reopened store' : readOnly ? 'aged without writes' : 'aged with its store';
  process.stdout.write(`pooled p99 over ${minutes} minutes at ${fmt(rate)} req/s: grown (${what}) ${fmt(pg, 3)} ms, fresh ${fmt(pf, 3)} ms: ${fmt((100 * (pg - pf)) / pf, 1)} %\n`);
} finally {
  client.close();
  for (const s of started) await s.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
  tls.dispose();
}

/**
 * Is the grown server slower at the same work without a queue? Three one-minute windows at 40 req/s (both servers'
 * requests interleaved), each request type's median service time compared; and the fixture's micro benchmark run in
 * each process in turn, five times.
 */
async function probeBoth(servers: { label: string; s: Started }[], both: (m: number) => Promise<{ label: string; targets: Target[] }[]>): Promise<void> {
  const med = new Map<string, number[]>();
  for (let r = 0; r < 3; r++) {
    const w = await client.run(interleave(await both(r)), 40, 60_000);
    failOnWindowErrors(`probe ${r + 1}`, w);
    for (const x of servers) {
      for (const [name, xs] of w.byGroup.get(x.label)!.serviceByTarget) med.set(`${name}|${x.label}`, [...(med.get(`${name}|${x.label}`) ?? []), quantiles(xs).p50]);
    }
  }
  const names = [...new Set([...med.keys()].map((k) => k.split('|')[0]!))];
  for (const n of names) {
    const [g, f] = ['grown', 'fresh'].map((l) => med.get(`${n}|${l}`)!.sort((a, b) => a - b)[1]!) as [number, number];
    say(`probe ${n}: median service grown ${fmt(g, 3)} / fresh ${fmt(f, 3)} ms: ${fmt((100 * (g - f)) / f, 1)} %`);
  }
  const micro = new Map<string, Record<string, number>[]>();
  for (let r = 0; r < 5; r++) {
    for (const x of r % 2 ? [...servers].reverse() : servers) micro.set(x.label, [...(micro.get(x.label) ?? []), await ask(x.s.child, { op: 'micro' })]);
  }
  for (const op of Object.keys(micro.get('grown')![0]!)) {
    const [g, f] = ['grown', 'fresh'].map((l) => micro.get(l)!.map((m) => m[op]!).sort((a, b) => a - b)[2]!) as [number, number];
    say(`probe micro ${op}: grown ${fmt(g)} / fresh ${fmt(f)} ns/op: ${fmt((100 * (g - f)) / f, 1)} %`);
  }
}
