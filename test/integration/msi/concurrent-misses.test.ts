import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { startTestKeyless, arm, http } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';

/**
 * IMDS signs cache misses on the thread pool. A burst of first requests for the same identity and audience
 * must still cost one signature and get one token, as Azure's IMDS cache gives every caller the same token.
 */
describe('IMDS cache misses signed off the event loop', () => {
  let k: StartedKeyless;
  let imds: string;
  let vm: any;
  const rg = () => `/subscriptions/${k.subscriptionId}/resourceGroups/miss-rg`;
  const token = (resource: string) =>
    http('GET', `${imds}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(resource)}`, { headers: { Metadata: 'true' } });

  beforeAll(async () => {
    k = await startTestKeyless();
    expect((await arm(k, 'PUT', rg(), { location: 'westeurope' })).status).toBe(201);
    vm = (await arm(k, 'PUT', `${rg()}/providers/Microsoft.Compute/virtualMachines/vm-miss`, { location: 'westeurope', identity: { type: 'SystemAssigned' } })).json;
    imds = k.imdsEndpoint(vm.id)!;
  });
  afterAll(async () => k?.stop());

  it('concurrent first requests for one audience share one token', async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, () => token('https://storage.azure.com/')));
    for (const a of answers) expect(a.status).toBe(200);
    const tokens = new Set(answers.map((a) => a.json.access_token as string));
    expect(tokens.size).toBe(1);
    const claims = decodeJwt([...tokens][0]!);
    expect(claims.oid).toBe(vm.identity.principalId);
    expect(claims.aud).toBe('https://storage.azure.com/');
    // And the next request is a cache hit on that same token.
    expect((await token('https://storage.azure.com/')).json.access_token).toBe([...tokens][0]);
  });

  it('different audiences requested together each get their own token', async () => {
    const [a, b] = await Promise.all([token('https://vault.azure.net'), token('https://management.azure.com/')]);
    expect(decodeJwt(a!.json.access_token).aud).toBe('https://vault.azure.net');
    expect(decodeJwt(b!.json.access_token).aud).toBe('https://management.azure.com/');
  });

  it('an identity disabled while tokens were cached gets no more tokens', async () => {
    expect((await token('https://vault.azure.net')).status).toBe(200);
    const r = await arm(k, 'PUT', vm.id, { location: 'westeurope', identity: { type: 'None' } });
    expect(r.status).toBeLessThan(300);
    const after = await Promise.all([token('https://vault.azure.net'), token('https://vault.azure.net')]);
    for (const a of after) expect(a.status).toBe(400);
  });
});
