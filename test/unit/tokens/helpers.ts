import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Clock } from '../../../src/core/clock.js';
import {
  SigningKeys,
  TokenIssuer,
  TokenVerifier,
  type Sealer,
  type SigningKeyRecord,
  type SigningKeyRepository,
  type IssueRequest,
  type VerifyPolicy,
} from '../../../src/tokens/index.js';

export const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const OTHER_TENANT = '11111111-2222-3333-4444-555555555555';
export const ARM = 'https://management.azure.com/';
export const V1_ISS = (tid: string): string => `https://sts.windows.net/${tid}/`;
export const V2_ISS = (tid: string): string => `https://127.0.0.1:8443/${tid}/v2.0`;
export const DAY = 86_400;

export class ManualClock implements Clock {
  constructor(public ms = Date.UTC(2025, 0, 15, 12, 0, 0)) {}
  now(): number {
    return this.ms;
  }
  advance(sec: number): void {
    this.ms += sec * 1000;
  }
}

/** Copies on the way in and out, like a database would. */
export class MemoryRepo implements SigningKeyRepository {
  readonly rows = new Map<string, string>();
  writes = 0;
  async list(): Promise<SigningKeyRecord[]> {
    return [...this.rows.values()].map((r) => JSON.parse(r) as SigningKeyRecord);
  }
  async upsert(rec: SigningKeyRecord): Promise<void> {
    this.writes++;
    this.rows.set(rec.kid, JSON.stringify(rec));
  }
  async remove(kid: string): Promise<void> {
    this.rows.delete(kid);
  }
  dump(): string {
    return [...this.rows.values()].join('\n');
  }
}

/** AES-256-GCM with the aad bound, so a wrong key or a swapped aad fails like the real keyring would. */
export class TestSealer implements Sealer {
  constructor(private readonly key = randomBytes(32)) {}
  seal(plaintext: Buffer | string, aad: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(aad));
    const body = Buffer.concat([c.update(plaintext), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
  }
  open(sealed: string, aad: string): Buffer {
    const raw = Buffer.from(sealed, 'base64');
    const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    d.setAAD(Buffer.from(aad));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]);
  }
}

export const MAX_LIFETIME = DAY + 3600;

export interface Fixture {
  clock: ManualClock;
  repo: MemoryRepo;
  sealer: TestSealer;
  keys: SigningKeys;
  issuer: TokenIssuer;
  verifier: TokenVerifier;
}

export async function fixture(opts: { clock?: ManualClock; repo?: MemoryRepo; sealer?: TestSealer; cacheSize?: number } = {}): Promise<Fixture> {
  const clock = opts.clock ?? new ManualClock();
  const repo = opts.repo ?? new MemoryRepo();
  const sealer = opts.sealer ?? new TestSealer();
  const keys = await SigningKeys.open({ repo, sealer, clock, maxTokenLifetimeSec: MAX_LIFETIME });
  const issuer = new TokenIssuer(keys, clock, { issuerV1: V1_ISS, issuerV2: V2_ISS });
  const verifier = new TokenVerifier(keys, clock, opts.cacheSize === undefined ? {} : { cacheSize: opts.cacheSize });
  return { clock, repo, sealer, keys, issuer, verifier };
}

export const miRequest = (over: Partial<IssueRequest> = {}): IssueRequest => ({
  tenantId: TENANT,
  audience: ARM,
  subjectOid: 'aaaaaaaa-0000-0000-0000-000000000001',
  appId: 'bbbbbbbb-0000-0000-0000-000000000002',
  kind: 'managedIdentity',
  version: 1,
  xmsMirid: '/subscriptions/00000000-0000-0000-0000-0000000000aa/resourcegroups/g1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1',
  lifetimeSec: DAY,
  ...over,
});

export const armPolicy = (over: Partial<VerifyPolicy> = {}): VerifyPolicy => ({
  audiences: ['https://management.azure.com/', 'https://management.core.windows.net/'],
  issuers: [V1_ISS(TENANT), V2_ISS(TENANT)],
  ...over,
});

export function decodeSegment(token: string, i: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[i]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** Resolves to the `extra.reason` of the rejection (fails the test if the promise resolves). */
export async function reasonOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return (e as { extra?: { reason?: unknown } }).extra?.reason ?? e;
  }
  throw new Error('expected rejection');
}
