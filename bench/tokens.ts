/**
 * Token issue/verify throughput. Run: npx tsx bench/tokens.ts [secondsPerRun=1] [runs=5]
 *
 * - issue: TokenIssuer (node:crypto sign on a cached KeyObject; sync, and on the thread pool) vs jose SignJWT RS256
 *   with the same claims (built by the same code) and jose's fastest key form (a WebCrypto CryptoKey, which signs
 *   on the thread pool), one at a time and with several in flight; alternating runs, medians.
 * - verify: TokenVerifier cold (cache disabled: full jose signature check every call), cached (same token), and
 *   bare jose jwtVerify on the same CryptoKey as the floor the cold path adds its checks to.
 */
import { randomBytes, webcrypto } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { systemClock } from '../src/core/clock.js';
import { buildClaims, drawOpaque, type IssueRequest } from '../src/tokens/claims.js';
import {
  SigningKeys,
  TokenIssuer,
  TokenVerifier,
  type Sealer,
  type SigningKeyRecord,
  type SigningKeyRepository,
  type VerifyPolicy,
} from '../src/tokens/index.js';

const seconds = Number(process.argv[2] ?? 1);
const runs = Number(process.argv[3] ?? 5);
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';

const rows = new Map<string, SigningKeyRecord>();
const repo: SigningKeyRepository = {
  list: async () => [...rows.values()],
  upsert: async (r) => void rows.set(r.kid, r),
  remove: async (kid) => void rows.delete(kid),
};
const pad = randomBytes(32);
// Not a real sealer (XOR), just enough for the bench; sealing is off the hot path anyway.
const sealer: Sealer = {
  seal: (p) => Buffer.from(Buffer.from(p).map((b, i) => b ^ pad[i % 32]!)).toString('base64'),
  open: (s) => Buffer.from(Buffer.from(s, 'base64').map((b, i) => b ^ pad[i % 32]!)),
};

const keys = await SigningKeys.open({ repo, sealer, clock: systemClock, maxTokenLifetimeSec: 86_400 + 3600 });
const issuerV1 = (tid: string): string => `https://sts.windows.net/${tid}/`;
const issuer = new TokenIssuer(keys, systemClock, { issuerV1, issuerV2: (tid) => `https://login.microsoftonline.com/${tid}/v2.0` });
const req: IssueRequest = {
  tenantId: TENANT,
  audience: 'https://management.azure.com/',
  subjectOid: 'aaaaaaaa-0000-0000-0000-000000000001',
  appId: 'bbbbbbbb-0000-0000-0000-000000000002',
  kind: 'managedIdentity',
  version: 1,
  xmsMirid: '/subscriptions/00000000-0000-0000-0000-0000000000aa/resourcegroups/g1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1',
  lifetimeSec: 86_400,
};
const active = keys.active();
const pkcs8 = active.privateKey.export({ type: 'pkcs8', format: 'der' });
const joseKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);

function joseIssue(): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims = buildClaims(req, issuerV1(TENANT), { iat: now - 300, nbf: now - 300, exp: now + 86_400 }, drawOpaque());
  return new SignJWT(claims).setProtectedHeader({ typ: 'JWT', alg: 'RS256', x5t: active.kid, kid: active.kid }).sign(joseKey);
}

interface Sample {
  /** Operations per wall-clock second. */
  rate: number;
  /** Process CPU time (all threads, so thread-pool work counts) per operation, µs: steadier than the rate on a
   * machine shared with other jobs. */
  cpuUs: number;
}

/** One window of `seconds`, `inFlight` operations awaited together. */
async function rate(op: () => unknown, inFlight = 1): Promise<Sample> {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let now = start;
  const batch = inFlight === 1 ? null : Array.from({ length: inFlight });
  while (now < end) {
    for (let i = 0; i < 32; i++) {
      if (batch) await Promise.all(batch.map(op));
      else await op();
    }
    n += 32 * inFlight;
    now = performance.now();
  }
  const cpu = process.cpuUsage(cpu0);
  return { rate: n / ((now - start) / 1000), cpuUs: (cpu.user + cpu.system) / n };
}
const IN_FLIGHT = 8;
const concurrent = (op: () => unknown) => (): Promise<Sample> => rate(op, IN_FLIGHT);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

type Case = (() => unknown) | { measure: () => Promise<Sample> };
const measure = (c: Case): Promise<Sample> => (typeof c === 'function' ? rate(c) : c.measure());

interface Result {
  rate: number;
  cpuUs: number;
}

/** Alternates the candidates run by run so drift (thermal, GC, neighbours) hits all alike; reports medians. */
async function compare(cases: Record<string, Case>): Promise<Record<string, Result>> {
  const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (const c of Object.values(cases)) await measure(c); // warm-up
  for (let r = 0; r < runs; r++) {
    for (const [name, c] of Object.entries(cases)) samples[name]!.push(await measure(c));
  }
  const out: Record<string, Result> = {};
  for (const [name, xs] of Object.entries(samples)) {
    const res = { rate: median(xs.map((x) => x.rate)), cpuUs: median(xs.map((x) => x.cpuUs)) };
    out[name] = res;
    console.log(
      `  ${name.padEnd(38)} median ${Math.round(res.rate).toString().padStart(7)}/s  ${res.cpuUs.toFixed(1).padStart(7)} µs CPU/op   runs/s ${xs.map((x) => Math.round(x.rate)).join(', ')}`,
    );
  }
  return out;
}

console.log(`node ${process.version}, ${runs} runs × ${seconds}s each (after a warm-up run)\n`);

console.log('issue (v1 MI token, RS256-2048):');
const iss = await compare({
  'TokenIssuer.issue (sync)': () => issuer.issue(req),
  'TokenIssuer.issueAsync': () => issuer.issueAsync(req),
  'jose SignJWT': joseIssue,
  [`TokenIssuer.issueAsync ×${IN_FLIGHT} in flight`]: { measure: concurrent(() => issuer.issueAsync(req)) },
  [`jose SignJWT ×${IN_FLIGHT} in flight`]: { measure: concurrent(joseIssue) },
});
const ratio = (a: string, b: string): string =>
  `${(iss[a]!.rate / iss[b]!.rate).toFixed(2)}× by rate, ${(iss[b]!.cpuUs / iss[a]!.cpuUs).toFixed(2)}× by CPU/op`;
console.log(`  issue (sync) vs jose SignJWT        : ${ratio('TokenIssuer.issue (sync)', 'jose SignJWT')}`);
console.log(`  issueAsync vs jose SignJWT          : ${ratio('TokenIssuer.issueAsync', 'jose SignJWT')}`);
console.log(`  issueAsync vs jose, ${IN_FLIGHT} in flight    : ${ratio(`TokenIssuer.issueAsync ×${IN_FLIGHT} in flight`, `jose SignJWT ×${IN_FLIGHT} in flight`)}\n`);

const token = issuer.issue(req).token;
const policy: VerifyPolicy = { audiences: ['https://management.azure.com'], issuers: [issuerV1(TENANT)], tenantId: TENANT };
const cold = new TokenVerifier(keys, systemClock, { cacheSize: 0 });
const cached = new TokenVerifier(keys, systemClock);
const verifyKey = active.verifyKey;

console.log('verify (same token):');
const ver = await compare({
  'TokenVerifier cold (no cache)': () => cold.verify(token, policy),
  'TokenVerifier cached': () => cached.verify(token, policy),
  'bare jose jwtVerify (CryptoKey)': () => jwtVerify(token, verifyKey, { algorithms: ['RS256'] }),
});
const vr = (a: string, b: string): string =>
  `${(ver[a]!.rate / ver[b]!.rate).toFixed(2)}× by rate, ${(ver[b]!.cpuUs / ver[a]!.cpuUs).toFixed(2)}× by CPU/op`;
console.log(`  cached vs cold     : ${vr('TokenVerifier cached', 'TokenVerifier cold (no cache)')}`);
console.log(`  cold vs bare jose  : ${vr('TokenVerifier cold (no cache)', 'bare jose jwtVerify (CryptoKey)')}`);
