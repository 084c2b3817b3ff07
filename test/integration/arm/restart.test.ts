import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { startTestKeyless, arm, adminToken, http } from '../../support/keyless.js';

/** Everything survives a restart: tenant, identities, role assignments, signing keys (old tokens verify). */
describe('restart keeps everything', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-restart-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('identities, VMs, assignments and keys persist; old tokens stay valid', async () => {
    const k1 = await startTestKeyless({ dataDir });
    const token = await adminToken(k1);
    const rg = `/subscriptions/${k1.subscriptionId}/resourceGroups/keep-rg`;
    await arm(k1, 'PUT', rg, { location: 'westeurope' }, token);
    const vm = (await arm(k1, 'PUT', `${rg}/providers/Microsoft.Compute/virtualMachines/vm1`, { location: 'westeurope', identity: { type: 'SystemAssigned' } }, token)).json;
    const imds = k1.imdsEndpoint(vm.id)!;
    const t1 = await http('GET', `${imds}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net`, { headers: { Metadata: 'true' } });
    expect(t1.status).toBe(200);
    await k1.assignRole({ principalId: vm.identity.principalId, role: 'Reader', scope: rg });
    const tenant = k1.tenantId;
    await k1.stop();

    const k2 = await startTestKeyless({ dataDir });
    try {
      expect(k2.tenantId).toBe(tenant);
      expect(k2.admin.clientSecret).toBeUndefined(); // shown once, on first start only
      // The admin token from before the restart is still accepted.
      const g = await arm(k2, 'GET', `${vm.id}?api-version=2024-07-01`, undefined, token);
      expect(g.status).toBe(200);
      expect(g.json.identity.principalId).toBe(vm.identity.principalId);
      // The VM keeps its IMDS address, and its identity its role.
      expect(k2.imdsEndpoint(vm.id)?.replace(/:\d+$/, '')).toBe(imds.replace(/:\d+$/, ''));
      const jwks = createLocalJWKSet((await http('GET', k2.endpoints.jwksUri)).json);
      await expect(jwtVerify(t1.json.access_token, jwks, { issuer: k2.endpoints.issuer })).resolves.toBeTruthy();
      const t2 = await http('GET', `${k2.imdsEndpoint(vm.id)}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/`, { headers: { Metadata: 'true' } });
      const asVm = await arm(k2, 'GET', `${rg}?api-version=2021-04-01`, undefined, t2.json.access_token);
      expect(asVm.status).toBe(200);
      const write = await arm(k2, 'PUT', `${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x?api-version=2023-01-31`, { location: 'westeurope' }, t2.json.access_token);
      expect(write.status).toBe(403);
    } finally {
      await k2.stop();
    }
  });
});
