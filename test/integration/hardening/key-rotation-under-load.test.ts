import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeProtectedHeader } from 'jose';
import { adminToken, arm, http } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';
import { startTestKeyless } from '../../support/keyless.js';

/**
 * Signing keys rotate while clients hammer ARM, Key Vault and Blob with bearer tokens issued before and during the
 * run. No request may fail verification, and every token issued after a rotation carries the new active kid.
 */
describe('signing key rotation under load', () => {
  let k: StartedKeyless;
  let rg: string;
  let kvUrl: string;
  let blobUrl: string;
  const ROTATIONS = 4;

  beforeAll(async () => {
    k = await startTestKeyless();
    rg = `/subscriptions/${k.subscriptionId}/resourceGroups/rot-rg`;
    expect((await arm(k, 'PUT', `${rg}?api-version=2021-04-01`, { location: 'westeurope' })).status).toBe(201);
    const vaultToken = await adminToken(k, 'https://vault.azure.net/.default');
    const put = await arm(k, 'PUT', `${rg}/providers/Microsoft.KeyVault/vaults/rot-vault?api-version=2024-11-01`, {
      location: 'westeurope',
      properties: { tenantId: k.tenantId, sku: { family: 'A', name: 'standard' }, accessPolicies: [{ tenantId: k.tenantId, objectId: k.admin.objectId, permissions: { secrets: ['get', 'set'] } }] },
    });
    expect(put.status, put.text).toBeLessThan(300);
    const port = new URL(k.endpoints.resourceManager).port;
    kvUrl = `https://rot-vault.vault.${k.config.dnsSuffix}:${port}/secrets/probe?api-version=7.4`;
    expect((await http('PUT', kvUrl, { headers: { authorization: `Bearer ${vaultToken}`, 'content-type': 'application/json' }, body: '{"value":"p"}' })).status).toBe(200);
    const account = await arm(k, 'PUT', `${rg}/providers/Microsoft.Storage/storageAccounts/rotacct?api-version=2023-05-01`, { location: 'westeurope', kind: 'StorageV2', sku: { name: 'Standard_LRS' } });
    expect(account.status, account.text).toBeLessThan(300);
    await k.assignRole({ principalId: k.admin.objectId, role: 'Storage Blob Data Contributor', scope: account.json.id });
    const storageToken = await adminToken(k, 'https://storage.azure.com/.default');
    blobUrl = `https://127.0.0.1:${port}/rotacct/rot`;
    const h = { authorization: `Bearer ${storageToken}`, 'x-ms-version': '2025-01-05' };
    const created = await http('PUT', `${blobUrl}?restype=container`, { headers: h });
    expect(created.status, created.text).toBe(201);
    expect((await http('PUT', `${blobUrl}/probe.txt`, { headers: { ...h, 'x-ms-blob-type': 'BlockBlob' }, body: 'probe' })).status).toBe(201);
  });
  afterAll(() => k?.stop());

  it(`${ROTATIONS} rotations under load: every request 200, new tokens carry the new kid`, async () => {
    type Surface = 'arm' | 'kv' | 'blob';
    const scopes: Record<Surface, string> = { arm: `${k.endpoints.armAudience}.default`, kv: 'https://vault.azure.net/.default', blob: 'https://storage.azure.com/.default' };
    const pool: Record<Surface, string[]> = { arm: [], kv: [], blob: [] };
    const mint = async () => {
      for (const s of Object.keys(scopes) as Surface[]) pool[s].push(await adminToken(k, scopes[s]));
    };
    await mint();
    const call = (s: Surface, token: string) => {
      const authorization = `Bearer ${token}`;
      if (s === 'arm') return http('GET', `${k.endpoints.resourceManager}${rg}?api-version=2021-04-01`, { headers: { authorization } });
      if (s === 'kv') return http('GET', kvUrl, { headers: { authorization } });
      return http('GET', `${blobUrl}/probe.txt`, { headers: { authorization, 'x-ms-version': '2025-01-05' } });
    };

    let done = false;
    let requests = 0;
    const failures: string[] = [];
    const surfaces: Surface[] = ['arm', 'kv', 'blob'];
    const client = async (i: number) => {
      for (let n = i; !done; n++) {
        const s = surfaces[n % 3]!;
        // Old and new tokens alike: the oldest (signed by keys since retired) stay in the pool.
        const tokens = pool[s];
        const token = tokens[(n * 7 + i) % tokens.length]!;
        const r = await call(s, token);
        requests++;
        if (r.status !== 200) failures.push(`${s} kid ${decodeProtectedHeader(token).kid}: ${r.status} ${r.text.slice(0, 160)}`);
      }
    };
    const clients = Array.from({ length: 6 }, (_, i) => client(i));

    const kidOf = (t: string) => decodeProtectedHeader(t).kid!;
    const kids = [kidOf(pool.arm[0]!)];
    const started = Date.now();
    for (let r = 0; r < ROTATIONS; r++) {
      await new Promise((res) => setTimeout(res, 600));
      await k.rotateSigningKeys();
      await mint();
      const fresh = surfaces.map((s) => kidOf(pool[s].at(-1)!));
      const jwks = (await http('GET', k.endpoints.jwksUri)).json.keys as { kid: string }[];
      // Active key first in the JWKS; every token minted after the rotation is signed by it, and it is new.
      expect(new Set(fresh)).toEqual(new Set([jwks[0]!.kid]));
      expect(kids).not.toContain(fresh[0]);
      kids.push(fresh[0]!);
    }
    await new Promise((res) => setTimeout(res, 600));
    done = true;
    await Promise.all(clients);

    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(50);
    expect(new Set(kids).size).toBe(ROTATIONS + 1);
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 30_000);
});
