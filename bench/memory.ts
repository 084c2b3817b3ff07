/**
 * Memory with 100k role assignments: RSS of `keyless serve` on a data dir without them vs the same server
 * started on one holding 100,000 (loaded into the authorization index at start), each measured after one ARM
 * request and a short idle. Goal ≤ +100 MB.
 * Usage: npx tsx bench/memory.ts [--runs 3]
 */
import fs from 'node:fs';
import path from 'node:path';
import { benchTlsDir, fmt, machine, median, numArg, rssMb } from './lib.js';
import { seedDataDir, type Seeded } from './seed-data.js';
import { probe, serveSeeded } from './cold-start.js';

const ASSIGNMENTS = 100_000;

async function idleRss(seed: Seeded, tlsDir: string, ca: Buffer): Promise<number> {
  const s = await serveSeeded(seed, tlsDir);
  try {
    await probe(s, seed, ca);
    await new Promise((r) => setTimeout(r, 2000));
    return rssMb(s.pid);
  } finally {
    await s.stop();
  }
}

export async function benchMemory(runs: number): Promise<string> {
  const tls = await benchTlsDir();
  const ca = fs.readFileSync(path.join(tls.dir, 'ca.crt'));
  const idle = await seedDataDir({ tlsDir: tls.dir, vms: 1, identities: 0, assignments: 0 });
  const loaded = await seedDataDir({ tlsDir: tls.dir, vms: 1, identities: 0, assignments: ASSIGNMENTS });
  try {
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < runs; i++) {
      a.push(await idleRss(idle, tls.dir, ca));
      b.push(await idleRss(loaded, tls.dir, ca));
    }
    const delta = median(b) - median(a);
    return [
      `### Memory with 100k role assignments (\`npm run bench -- --only memory\`)`,
      '',
      `Machine: ${machine()}. RSS (/proc VmRSS) of \`node bin/keyless.js serve\` 2 s after its first ARM request, median of ${runs} starts each;`,
      `the second data dir holds ${loaded.assignments.toLocaleString('en-US')} role assignments (random principals over the subscription, 10 resource groups and a VM; 6 built-in roles).`,
      '',
      '| server | RSS MB (median) | runs (MB) | goal |',
      '|---|---:|---|---:|',
      `| idle (bootstrap assignments only) | ${fmt(median(a))} | ${a.map((x) => fmt(x)).join(', ')} | |`,
      `| ${loaded.assignments.toLocaleString('en-US')} role assignments loaded | ${fmt(median(b))} | ${b.map((x) => fmt(x)).join(', ')} | |`,
      `| difference | +${fmt(delta)} | | ≤ +100 |`,
      '',
    ].join('\n');
  } finally {
    idle.dispose();
    loaded.dispose();
    tls.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write((await benchMemory(numArg('runs', 3))) + '\n');
}
