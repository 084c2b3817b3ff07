import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { serveKeyless, type ServedKeyless } from '../support/cli.js';
import { lastJson } from '../support/child.js';

const APP = path.resolve(import.meta.dirname, '../compat/node/apps/get-token.mjs');

/**
 * Scenario 01 — the newcomer's story (issue 3): start Keyless, declare a VM with a system identity and a
 * user-assigned identity, run an unmodified app as the VM, verify its tokens, delete the VM.
 */
describe('scenario 01: a VM gets a real, signed token from its identity endpoint', () => {
  let k: ServedKeyless;
  const envFile = () => path.join(k.dataDir, 'env.yaml');

  beforeAll(async () => {
    k = await serveKeyless();
  }, 90_000);
  afterAll(async () => k?.stop());

  it('step 1: `keyless serve --json` prints one ready line with endpoints, ids, CA and admin credential', () => {
    expect(k.ready.ready).toBe(true);
    expect(k.ready.tenantId).toMatch(/^[0-9a-f-]{36}$/);
    expect(k.ready.endpoints.resourceManager).toMatch(/^https:\/\/localhost:\d+$/);
    expect(k.ready.authorization).toBe('enforce');
    const admin = fs.statSync(k.ready.adminFile);
    expect(admin.mode & 0o777).toBe(0o600);
  });

  it('step 2: `keyless apply` creates the environment, and applying it again changes nothing', async () => {
    fs.writeFileSync(
      envFile(),
      ['location: westeurope', 'resourceGroups:', '  app-rg:', '    userAssignedIdentities:', '      app-id: {}', '    virtualMachines:', '      vm1:', '        identity: { systemAssigned: true, userAssigned: [app-id] }', ''].join('\n'),
    );
    const first = await k.cli(['apply', envFile()]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('/providers/Microsoft.Compute/virtualMachines/vm1');
    const before = JSON.parse((await k.cli(['env', '--vm', 'vm1', '--format', 'json'])).stdout);
    const again = await k.cli(['apply', envFile()]);
    expect(again.code, again.stderr).toBe(0);
    const after = JSON.parse((await k.cli(['env', '--vm', 'vm1', '--format', 'json'])).stdout);
    expect(after).toEqual(before);
  });

  it('step 3: `keyless env` prints shell exports with the IMDS address and CA paths, nothing secret', async () => {
    const r = await k.cli(['env', '--vm', 'vm1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^export AZURE_POD_IDENTITY_AUTHORITY_HOST=http:\/\/127\.77\.\d+\.\d+:\d+$/m);
    expect(r.stdout).toMatch(/^export NODE_EXTRA_CA_CERTS=/m);
    expect(r.stdout).toMatch(/^export REQUESTS_CA_BUNDLE=/m);
    const secret = JSON.parse(fs.readFileSync(k.ready.adminFile, 'utf8')).clientSecret as string;
    expect(r.stdout).not.toContain(secret);
  });

  let systemToken: string;
  it('step 4: `keyless run --vm vm1 -- node app.mjs` gets a system-assigned token that verifies against the JWKS', async () => {
    const r = await k.cli(['run', '--vm', 'vm1', '--', process.execPath, APP, 'dac', 'https://vault.azure.net/.default']);
    expect(r.code, r.stderr).toBe(0);
    const out = lastJson(r.stdout);
    expect(out.ok, out.message).toBe(true);
    systemToken = out.token;
    const jwks = createRemoteJWKSet(new URL(k.ready.endpoints.jwksUri));
    const { payload } = await jwtVerify(systemToken, jwks, { issuer: k.ready.endpoints.issuer, audience: 'https://vault.azure.net' });
    expect(String(payload['xms_mirid']).toLowerCase()).toMatch(/\/virtualmachines\/vm1$/);
  });

  it('step 5: the same app gets the user-assigned identity by client id', async () => {
    const env = JSON.parse((await k.cli(['env', '--vm', 'vm1', '--format', 'json'])).stdout);
    const id = await fetchIdentity(k, env);
    const r = await k.cli(['run', '--vm', 'vm1', '--', process.execPath, APP, 'mi', 'https://vault.azure.net/.default', `clientId=${id.clientId}`]);
    const out = lastJson(r.stdout);
    expect(out.ok, out.message).toBe(true);
    expect(JSON.parse(Buffer.from(out.token.split('.')[1], 'base64url').toString()).oid).toBe(id.principalId);
  });

  it('step 6 (negative): `keyless run` for a VM that does not exist fails clearly, exit code 2', async () => {
    const r = await k.cli(['run', '--vm', 'nope', '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no virtual machine named 'nope'/);
  });

  it('step 8: `keyless hosts` writes the host-routed names into a hosts file, and removes them again', async () => {
    const file = path.join(k.dataDir, 'hosts');
    fs.writeFileSync(file, '127.0.0.1 localhost\n');
    const w = await k.cli(['hosts', '--file', file]);
    expect(w.code, w.stderr).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^127\.0\.0\.1 management\.keyless\.localhost$/m);
    const p = await k.cli(['hosts', '--print']);
    expect(p.stdout).toContain('# BEGIN keyless');
    const r = await k.cli(['hosts', '--remove', '--file', file]);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe('127.0.0.1 localhost\n');
  });

  it('step 7: `keyless ca` prints the CA and bundle paths', async () => {
    const r = await k.cli(['ca']);
    expect(r.code).toBe(0);
    const [ca, bundle] = r.stdout.trim().split('\n');
    expect(fs.readFileSync(ca!, 'utf8')).toContain('BEGIN CERTIFICATE');
    expect(fs.readFileSync(bundle!, 'utf8').split('BEGIN CERTIFICATE').length).toBeGreaterThan(2);
  });
});

async function fetchIdentity(k: ServedKeyless, env: Record<string, string>): Promise<{ clientId: string; principalId: string }> {
  const r = await fetch(`${env['AZURE_POD_IDENTITY_AUTHORITY_HOST']}/metadata/instance?api-version=2021-02-01`, { headers: { Metadata: 'true' } });
  const vm = (await r.json()) as { compute: { resourceId: string } };
  const rgId = vm.compute.resourceId.split('/providers/')[0];
  const res = await k.cli(['health']);
  expect(res.code).toBe(0);
  // The identity's ids come from ARM, through the same admin connection the CLI uses.
  const { Connection } = await import('../../src/cli/connection.js');
  const conn = Connection.open(k.dataDir);
  const uai = await conn.arm('GET', `${rgId}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app-id?api-version=2023-01-31`);
  return { clientId: uai.properties.clientId, principalId: uai.properties.principalId };
}
