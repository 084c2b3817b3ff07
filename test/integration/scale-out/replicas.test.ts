import { beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { arm, adminToken, http } from '../../support/keyless.js';
import { createTestDatabase } from '../../support/postgres.js';
import { eventually, useReplicas } from '../../support/replicas.js';
import type { StartedKeyless } from '../../../src/index.js';

/**
 * Issue 8: three replicas over one PostgreSQL serve one tenant consistently. Writes go through random
 * replicas, reads through others; every change is enforced everywhere within a second, nothing is lost.
 */
const db = await createTestDatabase();
describe.runIf(db)('scale-out: 3 replicas on PostgreSQL', () => {
  const replicas = useReplicas(db!, 3);
  let token: string;
  const sub = () => `/subscriptions/${replicas[0]!.subscriptionId}`;
  const pick = (i: number) => replicas[i % replicas.length]!;
  beforeAll(async () => {
    token = await adminToken(replicas[0]!);
  });

  it('all replicas serve the same tenant, subscription and JWKS', async () => {
    expect(new Set(replicas.map((r) => r.tenantId)).size).toBe(1);
    const kids = await Promise.all(replicas.map(async (r) => (await http('GET', r.endpoints.jwksUri)).json.keys.map((k: { kid: string }) => k.kid).sort().join(',')));
    expect(new Set(kids).size).toBe(1);
  });

  it('a token issued by one replica is accepted by every other', async () => {
    for (const r of replicas) expect((await arm(r, 'GET', `${sub()}?api-version=2021-04-01`, undefined, token)).status).toBe(200);
  });

  it('writes through random replicas converge everywhere within 1 s, no lost writes', async () => {
    await arm(pick(0), 'PUT', `${sub()}/resourceGroups/mix`, { location: 'westeurope' }, token);
    const names = Array.from({ length: 24 }, (_, i) => `id-${i}`);
    await Promise.all(names.map((n, i) => arm(pick(i), 'PUT', `${sub()}/resourceGroups/mix/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${n}`, { location: 'westeurope' }, token)));
    for (const r of replicas) {
      const list = await arm(r, 'GET', `${sub()}/resourceGroups/mix/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=2023-01-31`, undefined, token);
      expect(list.json.value.map((x: { name: string }) => x.name).sort()).toEqual([...names].sort());
    }
  });

  it('a role assignment made through one replica is enforced by the others within 1 s, and its removal too', async () => {
    const dev = await replicas[0]!.createApplication('replica-dev');
    const devToken = await clientToken(replicas[1]!, dev.clientId, dev.clientSecret);
    const target = `${sub()}/resourceGroups/mix?api-version=2021-04-01`;
    expect((await arm(pick(2), 'GET', target, undefined, devToken)).status).toBe(403);
    const ra = await replicas[0]!.assignRole({ principalId: dev.objectId, role: 'Reader', scope: `${sub()}/resourceGroups/mix` });
    expect(await eventually(async () => (await arm(pick(2), 'GET', target, undefined, devToken)).status === 200)).toBe(true);
    await replicas[1]!.authorization.deleteAssignment(ra.name);
    expect(await eventually(async () => (await arm(pick(2), 'GET', target, undefined, devToken)).status === 403)).toBe(true);
  });

  it('an identity deleted through one replica gets no more tokens from any other, cached or not', async () => {
    const vm = (await arm(pick(0), 'PUT', `${sub()}/resourceGroups/mix/providers/Microsoft.Compute/virtualMachines/vm1`, { location: 'westeurope', identity: { type: 'SystemAssigned' } }, token)).json;
    // The VM's IMDS is served by every replica that has bound its address; ask replica 2.
    const imds = await waitFor(() => replicas[2]!.imdsEndpoint(vm.id));
    const url = `${imds}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net`;
    const first = await http('GET', url, { headers: { Metadata: 'true' } });
    expect(first.status).toBe(200);
    expect(decodeJwt(first.json.access_token).oid).toBe(vm.identity.principalId);
    await arm(pick(1), 'PATCH', vm.id, { identity: { type: 'None' } }, token);
    expect(await eventually(async () => (await http('GET', url, { headers: { Metadata: 'true' } })).status === 400)).toBe(true);
  });

  it('a signing-key rotation on one replica is published by all, and old tokens still verify', async () => {
    await replicas[0]!.rotateSigningKeys();
    expect(
      await eventually(async () => {
        const sets = await Promise.all(replicas.map(async (r) => (await http('GET', r.endpoints.jwksUri)).json.keys.map((k: { kid: string }) => k.kid).sort().join(',')));
        return new Set(sets).size === 1;
      }),
    ).toBe(true);
    for (const r of replicas) expect((await arm(r, 'GET', `${sub()}?api-version=2021-04-01`, undefined, token)).status).toBe(200);
    const fresh = await clientToken(replicas[2]!, replicas[0]!.admin.clientId, replicas[0]!.admin.clientSecret!);
    for (const r of replicas) expect((await arm(r, 'GET', `${sub()}?api-version=2021-04-01`, undefined, fresh)).status).toBe(200);
  });
});

async function clientToken(k: StartedKeyless, clientId: string, secret: string): Promise<string> {
  const r = await http('POST', `${k.endpoints.authority}/oauth2/v2.0/token`, {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret, scope: `${k.endpoints.armAudience}.default` }).toString(),
  });
  return r.json.access_token;
}

async function waitFor<T>(fn: () => T | undefined, ms = 2000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}
