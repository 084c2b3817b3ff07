import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { arm, http, startTestKeyless } from '../../support/keyless.js';
import { createTestDatabase } from '../../support/postgres.js';
import type { StartedKeyless } from '../../../src/index.js';

/**
 * Secrets at rest: distinctive values go in through the public surfaces (Key Vault secrets, storage account keys,
 * application client secrets, the admin credential), then the raw SQLite files (WAL included, while running and
 * after stop) and a pg_dump of the PostgreSQL database are searched for them in every encoding a store could use.
 */
const pgdb = await createTestDatabase();
const backends: [string, () => { databaseUrl?: string }][] = [['sqlite', () => ({})]];
if (pgdb) backends.push(['postgres', () => ({ databaseUrl: pgdb.url })]);

/** pg_dump from PATH or the postgresql package's versioned bin directory. */
function findPgDump(): string | undefined {
  const candidates = ['/usr/bin/pg_dump'];
  for (const base of ['/usr/lib/postgresql', '/usr/local/pgsql']) {
    if (!fs.existsSync(base)) continue;
    for (const v of fs.readdirSync(base).sort().reverse()) candidates.push(path.join(base, v, 'bin/pg_dump'), path.join(base, 'bin/pg_dump'));
  }
  return candidates.find((c) => fs.existsSync(c));
}

/** The forms a plaintext could take in a row or a dump: as is, base64 (both alphabets), hex (either case). */
function encodings(value: string | Buffer): Buffer[] {
  const raw = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return [raw, raw.toString('base64'), raw.toString('base64url'), raw.toString('hex'), raw.toString('hex').toUpperCase()].map((v) => (typeof v === 'string' ? Buffer.from(v) : v));
}

describe.each(backends)('no plaintext secrets at rest (%s)', (backend, storeOptions) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-at-rest-'));
  let k: StartedKeyless | undefined;
  afterAll(async () => {
    await k?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    if (backend === 'postgres') await pgdb?.drop();
  });

  it('KV secret values, account keys, client secrets and the admin secret are nowhere in the store', async () => {
    k = await startTestKeyless({ dataDir, ...storeOptions() });
    const needles: [string, string | Buffer][] = [['admin client secret', k.admin.clientSecret!]];
    const app = await k.createApplication('at-rest-app');
    needles.push(['application client secret', app.clientSecret]);

    const rg = `/subscriptions/${k.subscriptionId}/resourceGroups/at-rest`;
    expect((await arm(k, 'PUT', `${rg}?api-version=2021-04-01`, { location: 'westeurope' })).status).toBe(201);
    const vault = await arm(k, 'PUT', `${rg}/providers/Microsoft.KeyVault/vaults/at-rest-kv?api-version=2024-11-01`, {
      location: 'westeurope',
      properties: { tenantId: k.tenantId, sku: { family: 'A', name: 'standard' }, accessPolicies: [{ tenantId: k.tenantId, objectId: k.admin.objectId, permissions: { secrets: ['get', 'set'] } }] },
    });
    expect(vault.status, vault.text).toBeLessThan(300);
    const vaultToken = (
      await http('POST', `${k.endpoints.authority}/oauth2/v2.0/token`, {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: k.admin.clientId, client_secret: k.admin.clientSecret!, scope: 'https://vault.azure.net/.default' }).toString(),
      })
    ).json.access_token as string;
    const port = new URL(k.endpoints.resourceManager).port;
    for (let i = 0; i < 3; i++) {
      // Long enough that any accidental match is a leak, not chance.
      const value = `at-rest-canary-${i}-${randomBytes(20).toString('hex')}`;
      const r = await http('PUT', `https://at-rest-kv.vault.${k.config.dnsSuffix}:${port}/secrets/canary-${i}?api-version=7.4`, {
        headers: { authorization: `Bearer ${vaultToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ value }),
      });
      expect(r.status, r.text).toBe(200);
      needles.push([`kv secret ${i}`, value]);
    }

    const account = `atrest${randomBytes(4).toString('hex')}`;
    const acctId = `${rg}/providers/Microsoft.Storage/storageAccounts/${account}`;
    expect((await arm(k, 'PUT', `${acctId}?api-version=2023-05-01`, { location: 'westeurope', kind: 'StorageV2', sku: { name: 'Standard_LRS' } })).status).toBeLessThan(300);
    // A regenerated key is stored too; both current keys must be sealed.
    expect((await arm(k, 'POST', `${acctId}/regenerateKey?api-version=2023-05-01`, { keyName: 'key2' })).status).toBe(200);
    const keys = (await arm(k, 'POST', `${acctId}/listKeys?api-version=2023-05-01`)).json.keys as { keyName: string; value: string }[];
    expect(keys).toHaveLength(2);
    for (const key of keys) needles.push([`storage ${key.keyName} (base64)`, key.value], [`storage ${key.keyName} (bytes)`, Buffer.from(key.value, 'base64')]);

    const scan = (label: string, haystack: Buffer): string[] =>
      needles.flatMap(([what, value]) => (encodings(value).some((e) => haystack.includes(e)) ? [`${what} found in ${label}`] : []));

    const leaks: string[] = [];
    if (backend === 'sqlite') {
      // While running: recent writes sit in the WAL, not yet in the main file.
      const dbFiles = () => fs.readdirSync(dataDir).filter((f) => f.startsWith('keyless.db'));
      expect(dbFiles()).toContain('keyless.db-wal');
      for (const f of dbFiles()) leaks.push(...scan(`${f} (running)`, fs.readFileSync(path.join(dataDir, f))));
      await k.stop();
      k = undefined;
      for (const f of dbFiles()) leaks.push(...scan(`${f} (stopped)`, fs.readFileSync(path.join(dataDir, f))));
      // The scan can find things: the store does hold non-secret values written above.
      expect(fs.readFileSync(path.join(dataDir, 'keyless.db')).includes(Buffer.from(account))).toBe(true);
    } else {
      const pgDump = findPgDump();
      if (!pgDump) {
        if (process.env['KEYLESS_REQUIRE_ALL'] === '1') throw new Error('pg_dump is required (KEYLESS_REQUIRE_ALL=1) but was not found in /usr/bin or /usr/lib/postgresql/*/bin');
        console.warn('pg_dump not found: skipping the PostgreSQL dump scan');
        return;
      }
      const dump = execFileSync(pgDump, ['--no-owner', pgdb!.url], { maxBuffer: 256 * 1024 * 1024 });
      expect(dump.includes(Buffer.from(account))).toBe(true);
      leaks.push(...scan('pg_dump', dump));
    }
    expect(leaks).toEqual([]);

    // Files that hold key material are owner-only.
    const mode = (f: string) => fs.statSync(path.join(dataDir, f)).mode & 0o777;
    expect(mode('master.key').toString(8)).toBe('600');
    expect(mode('admin.json').toString(8)).toBe('600');
    if (backend === 'sqlite') expect(mode('keyless.db').toString(8)).toBe('600');
  }, 60_000);
});
