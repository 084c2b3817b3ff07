/**
 * `npm run bench`: every benchmark, one command; results written to BENCHMARKS.md (never part of npm test).
 *
 *   npm run bench [-- --runs 5 --seconds 5]       all sections (≈ 10–15 min with the defaults), writes BENCHMARKS.md
 *   npm run bench -- --only kv [--runs 2 …]       one section (or a comma list), printed; BENCHMARKS.md untouched
 *   npm run bench -- --only soak --minutes 30     the soak (never part of the full run; records itself unless
 *                                                 --no-record; --minute-seconds, --rate: see soak.ts)
 *
 * Sections: imds, tokens, authz, kv, blob, cold, memory, replicas, soak.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { machine, numArg } from './lib.js';
import { benchImds } from './imds.js';
import { benchKeyVault } from './keyvault.js';
import { benchBlob } from './blob.js';
import { benchColdStart } from './cold-start.js';
import { benchMemory } from './memory.js';
import { benchReplicas } from './replicas.js';
import { recordSoak, runSoak, SOAK_FILE, soakOptions } from './soak.js';

const runs = numArg('runs', 5);
const seconds = numArg('seconds', 5);
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? new Set((process.argv[onlyAt + 1] ?? '').split(',').filter(Boolean)) : undefined;

const sub = (script: string, args: string[] = [], nodeArgs: string[] = []) =>
  execFileSync(process.execPath, [...nodeArgs, '--import', 'tsx', script, ...args], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });

const SECTIONS: Record<string, { title: string; run: () => Promise<string> }> = {
  imds: {
    title: 'IMDS',
    run: () => {
      process.env['BENCH_RUNS'] = String(runs);
      process.env['BENCH_SECONDS'] = String(seconds);
      return benchImds(runs, seconds);
    },
  },
  tokens: {
    title: 'token issue/verify',
    run: async () => ['### Token issue and verify (`npx tsx bench/tokens.ts 1 5`)', '', '```', sub('bench/tokens.ts', ['1', String(runs)]).trim(), '```', ''].join('\n'),
  },
  authz: {
    title: 'authorization decisions (10k, 100k, 1M)',
    // 1M assignments need about 2 GB of heap.
    run: async () =>
      ['### Authorization decisions (`npx tsx bench/authz-decision.ts --million`)', '', sub('bench/authz-decision.ts', ['--million'], ['--max-old-space-size=4096']).trim(), ''].join('\n'),
  },
  kv: { title: 'Key Vault get-secret', run: () => benchKeyVault(runs, seconds) },
  blob: { title: 'Blob vs Azurite', run: () => benchBlob(runs, seconds) },
  cold: { title: 'cold start with 10k resources', run: () => benchColdStart(runs) },
  memory: { title: 'RSS with 100k assignments', run: () => benchMemory(Math.min(runs, 3)) },
  replicas: { title: '1 vs 2 replicas over PostgreSQL', run: () => benchReplicas(runs, seconds) },
};

if (only) {
  for (const name of only) {
    if (name !== 'soak' && !SECTIONS[name]) throw new Error(`--only ${name}: unknown section (${[...Object.keys(SECTIONS), 'soak'].join(', ')})`);
  }
  for (const name of only) {
    if (name === 'soak') {
      const opts = soakOptions();
      const { section, ok } = await runSoak(opts);
      if (opts.record) recordSoak(section);
      process.stdout.write(section + '\n');
      if (!ok) process.exitCode = 1;
      continue;
    }
    process.stderr.write(`bench: ${SECTIONS[name]!.title}…\n`);
    process.stdout.write((await SECTIONS[name]!.run()) + '\n');
  }
} else {
  const sections: string[] = [];
  for (const s of Object.values(SECTIONS)) {
    process.stderr.write(`bench: ${s.title}…\n`);
    sections.push(await s.run());
  }
  // The soak runs on demand (30 min); its last recorded result is carried into every full report.
  if (fs.existsSync(SOAK_FILE)) sections.push(fs.readFileSync(SOAK_FILE, 'utf8'));

  const header = [
    '# Benchmarks',
    '',
    'Measured by `npm run bench` (bench/run.ts), never by timed tests. Every ratio compares against a baseline measured',
    'in the same run on the same machine. Load generator: autocannon (npm), in its own process.',
    '',
    `Last run: ${new Date().toISOString()} — ${machine()}.`,
    '',
    'Caveat: these machines have 2 cores; the load generator and the server share them, so absolute numbers are',
    'lower than on a bigger box and the ratios are the meaningful part.',
    '',
  ];
  const notes = fs.existsSync('bench/NOTES.md') ? ['', fs.readFileSync('bench/NOTES.md', 'utf8')] : [];
  fs.writeFileSync('BENCHMARKS.md', [...header, ...sections, ...notes].join('\n') + '\n');
  process.stderr.write('bench: wrote BENCHMARKS.md\n');
}
