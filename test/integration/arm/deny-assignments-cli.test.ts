import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../../support/keyless.js';
import { serveKeyless, type ServedKeyless } from '../../support/cli.js';

/** `keyless deny create|list|delete` against a served Keyless, checked through ARM's read-only listing. */
describe('keyless deny', () => {
  let k: ServedKeyless;
  const arm = async (path: string) => {
    const adminFile = JSON.parse(fs.readFileSync(k.ready.adminFile, 'utf8')) as { clientId: string; clientSecret: string };
    const t = await http('POST', `${k.ready.endpoints.authority}/oauth2/v2.0/token`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: adminFile.clientId, client_secret: adminFile.clientSecret, scope: `${k.ready.endpoints.armAudience}.default` }).toString(),
    });
    return http('GET', `${k.ready.endpoints.resourceManager}${path}?api-version=2022-04-01`, { headers: { authorization: `Bearer ${t.json.access_token}` } });
  };
  beforeAll(async () => {
    k = await serveKeyless();
  }, 60_000);
  afterAll(async () => k?.stop());

  it('creates, lists and deletes; refuses an incomplete command with a clear message', async () => {
    const sub = `/subscriptions/${k.ready.subscriptionId}`;
    const incomplete = await k.cli(['deny', 'create', '--scope', sub, '--action', 'Microsoft.Compute/virtualMachines/delete']);
    expect(incomplete.code).toBe(2);
    expect(incomplete.stderr).toContain('pass --principal <objectId> or --everyone');
    const invalid = await k.cli(['deny', 'create', '--scope', sub, '--action', 'x', '--principal', 'not-a-guid']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain("InvalidDenyAssignment: 'not-a-guid' in 'principals' is not a valid principal id");

    const created = await k.cli([
      'deny', 'create', '--scope', sub, '--action', 'Microsoft.Compute/virtualMachines/delete,Microsoft.Compute/virtualMachines/write',
      '--everyone', '--exclude', (JSON.parse(fs.readFileSync(k.ready.adminFile, 'utf8')) as { objectId: string }).objectId,
      '--display-name', 'Keep VMs', '--no-children', '--json',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const d = JSON.parse(created.stdout);
    expect(d.properties).toMatchObject({ denyAssignmentName: 'Keep VMs', scope: sub, doNotApplyToChildScopes: true, principals: [{ type: 'SystemDefined' }] });
    expect(d.properties.permissions[0].actions).toEqual(['Microsoft.Compute/virtualMachines/delete', 'Microsoft.Compute/virtualMachines/write']);

    const listed = await k.cli(['deny', 'list']);
    expect(listed.stdout).toContain(`${d.name}  'Keep VMs' at ${sub} (this scope only)  denies Microsoft.Compute/virtualMachines/delete, Microsoft.Compute/virtualMachines/write  to everyone except `);
    expect((await arm(`${sub}/providers/Microsoft.Authorization/denyAssignments/${d.name}`)).json.name).toBe(d.name);

    const deleted = await k.cli(['deny', 'delete', d.name]);
    expect(deleted.stdout).toBe(`deleted ${d.name}\n`);
    expect((await k.cli(['deny', 'list'])).stdout).toBe('no deny assignments\n');
    expect((await arm(`${sub}/providers/Microsoft.Authorization/denyAssignments`)).json.value).toEqual([]);
  }, 60_000);
});
