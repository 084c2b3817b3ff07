import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveKeyless, type ServedKeyless } from '../support/cli.js';
import { Connection } from '../../src/cli/connection.js';

/**
 * Scenario 02 — issue 4's user story: an operator gives a VM identity "Key Vault Reader" on a vault scope,
 * as a popular tutorial says, and asks Keyless before deploying whether the app can read secrets.
 */
describe('scenario 02: `keyless access check` explains the Key Vault Reader mistake', () => {
  let k: ServedKeyless;
  let conn: Connection;
  let principalId: string;
  let vaultScope: string;

  beforeAll(async () => {
    k = await serveKeyless();
    conn = Connection.open(k.dataDir);
    const rg = `/subscriptions/${k.ready.subscriptionId}/resourceGroups/kv-rg`;
    await conn.arm('PUT', `${rg}?api-version=2021-04-01`, { location: 'westeurope' });
    const vm = await conn.arm('PUT', `${rg}/providers/Microsoft.Compute/virtualMachines/app-vm?api-version=2024-07-01`, { location: 'westeurope', identity: { type: 'SystemAssigned' } });
    principalId = vm.identity.principalId;
    // The vault needs no ARM resource for a what-if check: scopes are just ids.
    vaultScope = `${rg}/providers/Microsoft.KeyVault/vaults/app-kv`;
    await conn.arm('PUT', `${vaultScope}/providers/Microsoft.Authorization/roleAssignments/3f2d3c4b-0000-4000-8000-000000000001?api-version=2022-04-01`, {
      properties: { roleDefinitionId: '/providers/Microsoft.Authorization/roleDefinitions/21090545-7ca7-4776-b22c-e363652d74d2', principalId, principalType: 'ServicePrincipal' },
    });
  }, 90_000);
  afterAll(async () => k?.stop());

  it('step 1: management reads are allowed, exit code 0', async () => {
    const r = await k.cli(['access', 'check', '--principal', principalId, '--action', 'Microsoft.KeyVault/vaults/read', '--scope', vaultScope]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/allowed/i);
    expect(r.stdout).toContain('Key Vault Reader');
  });

  it('step 2 (negative): reading a secret value is denied; the explanation names principal, action, scope, the assignment and the role that would grant it', async () => {
    const secretScope = `${vaultScope}/secrets/db-password`;
    const r = await k.cli(['access', 'check', '--principal', principalId, '--action', 'Microsoft.KeyVault/vaults/secrets/getSecret/action', '--scope', secretScope]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(principalId);
    expect(r.stdout).toContain('Microsoft.KeyVault/vaults/secrets/getSecret/action');
    expect(r.stdout).toContain(secretScope);
    expect(r.stdout).toContain('Key Vault Reader');
    expect(r.stdout).toContain('Key Vault Secrets User');
    expect(r.stdout.indexOf('Key Vault Secrets User')).toBeLessThan(r.stdout.indexOf('Key Vault Secrets Officer') === -1 ? Infinity : r.stdout.indexOf('Key Vault Secrets Officer'));
  });

  it('step 3: --json gives the structured explanation', async () => {
    const r = await k.cli(['access', 'check', '--json', '--principal', principalId, '--action', 'Microsoft.KeyVault/vaults/secrets/getSecret/action', '--scope', vaultScope]);
    const out = JSON.parse(r.stdout);
    expect(out.allowed).toBe(false);
    expect(out.explanation.request.isDataAction).toBe(true);
    expect(out.explanation.suggestions[0].roleName).toBe('Key Vault Secrets User');
  });
});
