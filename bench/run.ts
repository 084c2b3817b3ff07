/**
 * `npm run bench`: every benchmark, one command; results written to BENCHMARKS.md (never part of npm test).
 * Usage: npm run bench [-- --runs 5 --seconds 5]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { machine } from './lib.js';
import { benchImds } from './imds.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const runs = arg('runs', 5);
const seconds = arg('seconds', 5);

const sub = (script: string, args: string[] = []) =>
  execFileSync(process.execPath, ['--import', 'tsx', script, ...args], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });

const sections: string[] = [];
process.stderr.write('bench: IMDS…\n');
process.env['BENCH_RUNS'] = String(runs);
process.env['BENCH_SECONDS'] = String(seconds);
sections.push(await benchImds());
process.stderr.write('bench: token issue/verify…\n');
sections.push(['### Token issue and verify (`npx tsx bench/tokens.ts 1 5`)', '', '```', sub('bench/tokens.ts', ['1', String(runs)]).trim(), '```', ''].join('\n'));
process.stderr.write('bench: authorization decisions…\n');
sections.push(['### Authorization decisions (`npx tsx bench/authz-decision.ts`)', '', sub('bench/authz-decision.ts').trim(), ''].join('\n'));

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
