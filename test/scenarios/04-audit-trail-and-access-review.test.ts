import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYLESS_BIN, serveKeyless, type ServedKeyless } from '../support/cli.js';
import { lastJson } from '../support/child.js';
import { http } from '../support/keyless.js';
import { Connection } from '../../src/cli/connection.js';

const APP = path.resolve(import.meta.dirname, '../compat/node/apps/get-token.mjs');
const CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c';

/**
 * Scenario 04 — "who did what, and do they need all that?" (issue 7): an operator runs Keyless, a VM's identity
 * gets tokens and is refused an ARM write; `keyless logs` shows the sign-ins and the denial with the engine's
 * reason; the identity is given Contributor, uses a sliver of it, and `keyless access review` says so.
 */
describe('scenario 04: the audit trail and the access review, through the real CLI', () => {
  let k: ServedKeyless;
  let conn: Connection;
  let rg: string;
  let vm: { id: string; principalId: string };
  let vmToken: string;
  const env = () => path.join(k.dataDir, 'env.yaml');
  const armWith = (token: string, method: string, p: string, body?: unknown) =>
    http(method, `${k.ready.endpoints.resourceManager}${p}`, { headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });

  beforeAll(async () => {
    k = await serveKeyless(['--audit-retention-days', '7']);
    conn = Connection.open(k.dataDir);
  }, 90_000);
  afterAll(async () => k?.stop());

  it('step 1: a VM with a system identity, applied with `keyless apply`', async () => {
    fs.writeFileSync(env(), ['location: westeurope', 'resourceGroups:', '  audit-rg:', '    virtualMachines:', '      vm1:', '        identity: { systemAssigned: true }', ''].join('\n'));
    const r = await k.cli(['apply', env()]);
    expect(r.code, r.stderr).toBe(0);
    rg = `/subscriptions/${k.ready.subscriptionId}/resourceGroups/audit-rg`;
    const body = await conn.arm('GET', `${rg}/providers/Microsoft.Compute/virtualMachines/vm1?api-version=2024-07-01`);
    vm = { id: body.id, principalId: body.identity.principalId };
  });

  it('step 2: an unmodified app running as the VM gets an ARM token; the identity has no role, so its write is refused', async () => {
    const r = await k.cli(['run', '--vm', 'vm1', '--', process.execPath, APP, 'mi', 'https://management.azure.com/.default']);
    const out = lastJson(r.stdout);
    expect(out.ok, out.message).toBe(true);
    vmToken = out.token;
    const denied = await armWith(vmToken, 'PUT', `${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app-id?api-version=2023-01-31`, { location: 'westeurope' });
    expect(denied.status).toBe(403);
  });

  it('step 3: `keyless logs` prints one line per event: the apply’s ARM writes, the IMDS sign-in, the denial', async () => {
    const r = await k.cli(['logs']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.find((l) => /\bsignin\s+succeeded imds managedIdentity/.test(l))).toContain(`oid=${vm.principalId}`);
    expect(lines.some((l) => /activity succeeded 20[01] PUT Microsoft.Compute\/virtualMachines\/write .*\/virtualMachines\/vm1/.test(l))).toBe(true);
    const denial = lines.find((l) => /activity denied\s+403 PUT Microsoft.ManagedIdentity\/userAssignedIdentities\/write/.test(l));
    expect(denial).toMatch(/— denied/);
    expect(r.stdout).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  });

  it('step 4: filters and JSON — only the denials, with the engine’s explanation', async () => {
    const r = await k.cli(['logs', '--category', 'activity', '--status', 'denied', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ category: 'activity', result: 'denied', principalId: vm.principalId, operation: 'Microsoft.ManagedIdentity/userAssignedIdentities/write' });
    expect(events[0].details.explanation.reason).toBe('no-matching-assignment');
    expect(events[0].details.explanation.suggestions[0].roleName).toBeTruthy();
    const signins = await k.cli(['logs', '--category', 'signin', '--principal', vm.principalId]);
    expect(signins.stdout.trim().split('\n').every((l) => l.includes(' signin '))).toBe(true);
    const group = await k.cli(['logs', '--resource-group', 'audit-rg', '--category', 'activity']);
    expect(group.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(3);
  });

  it('step 5: Contributor on the group; the identity creates one identity — the review says what it used and what would do', async () => {
    const name = '6f2b1c3d-0000-4000-8000-00000000c0de';
    await conn.arm('PUT', `${rg}/providers/Microsoft.Authorization/roleAssignments/${name}?api-version=2022-04-01`, {
      properties: { roleDefinitionId: `/subscriptions/${k.ready.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${CONTRIBUTOR}`, principalId: vm.principalId, principalType: 'ServicePrincipal' },
    });
    const ok = await armWith(vmToken, 'PUT', `${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app-id?api-version=2023-01-31`, { location: 'westeurope' });
    expect(ok.status, ok.text).toBe(201);

    const r = await k.cli(['access', 'review', '--principal', vm.principalId, '--since', '1h']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/granted: Contributor at \S+\/resourceGroups\/audit-rg {2}— used: Microsoft.ManagedIdentity\/userAssignedIdentities\/write/);
    expect(r.stdout).toMatch(/denied: {2}Microsoft.ManagedIdentity\/userAssignedIdentities\/write ×1/);
    expect(r.stdout).toMatch(/suggest: .+ at \S+\/resourceGroups\/audit-rg {2}\(covers Microsoft.ManagedIdentity\/userAssignedIdentities\/write/);

    const json = JSON.parse((await k.cli(['access', 'review', '--principal', vm.principalId, '--json'])).stdout);
    const i = json.identities[0];
    expect(i.grants).toEqual([expect.objectContaining({ roleName: 'Contributor', used: true })]);
    expect(i.suggestion.roles[0].scope.toLowerCase()).toBe(rg.toLowerCase());
  });

  it('step 6: `keyless logs --follow` prints new events as they happen and stops cleanly on Ctrl-C', async () => {
    const child = spawn(process.execPath, [KEYLESS_BIN, 'logs', '--follow', '--category', 'activity', '--since', '1h', '--interval', '100'], {
      env: { ...process.env, KEYLESS_DATA_DIR: k.dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const waitFor = async (text: string) => {
      for (const until = Date.now() + 20_000; !out.includes(text); await new Promise((r) => setTimeout(r, 50))) {
        if (Date.now() > until) throw new Error(`no '${text}' in: ${out}`);
      }
    };
    // The earlier activity comes first: once it is out, the command is polling.
    await waitFor('/virtualMachines/vm1');
    await conn.arm('PUT', `${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/followed?api-version=2023-01-31`, { location: 'westeurope' });
    await waitFor('userAssignedIdentities/followed');
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out.trim().split('\n').filter((l) => l.includes('/followed')).length).toBe(1);
  }, 60_000);

  it('step 7 (negative): a bad time is refused with exit code 2 and a readable message', async () => {
    const r = await k.cli(['logs', '--since', 'last tuesday']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/'last tuesday' is not a valid since/);
  });

  it('step 8: Prometheus metrics on the ops surface', async () => {
    const r = await http('GET', `${k.ready.endpoints.resourceManager}/metrics`);
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/keyless_tokens_issued_total\{endpoint="imds",kind="managedIdentity",result="success"\} [1-9]/);
    expect(r.text).toMatch(/keyless_authz_decisions_total\{surface="arm",result="denied"\} [1-9]/);
  });
});
