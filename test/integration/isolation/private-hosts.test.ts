import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYLESS_BIN, serveKeyless, type ServedKeyless } from '../../support/cli.js';
import { lastJson, runChild } from '../../support/child.js';
import { http } from '../../support/keyless.js';
import { Connection } from '../../../src/cli/connection.js';
import { privateHostsUnavailableReason } from '../../../src/isolation/private-hosts.js';
import { prerequisites } from '../../compat/az/support/az.js';

/** A suffix nothing resolves (RFC 6761 reserves .test), so only the private hosts file can name it. */
const SUFFIX = 'keyless.test';
const VAULT = 'phvault';
const APP = path.resolve(import.meta.dirname, '../../compat/node/apps/keyvault-secret.mjs');

/** Connects to loopback whatever the name, so the test itself can reach a host it cannot resolve. */
const toLoopback = ((_host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) => {
  if (options.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
  else cb(null, '127.0.0.1', 4);
}) as unknown as https.RequestOptions['lookup'];

function putSecret(url: string, token: string, ca: string, value: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ value });
    const req = https.request(url, { method: 'PUT', lookup: toLoopback, ca, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Issue 5 item 4: `keyless run --private-hosts` gives the child (and only the child) an /etc/hosts that names
 * this Keyless's vaults, accounts and management hosts, so a --dns-suffix that resolves nowhere still works for
 * unmodified clients. Needs root and unshare, like the isolated-VM tests.
 */
describe.skipIf(prerequisites('private hosts', privateHostsUnavailableReason()).skip)('keyless run --private-hosts', { timeout: 60_000 }, () => {
  let k: ServedKeyless;
  let conn: Connection;
  let tlsDir: string;
  let filesDir: string;
  let port: string;
  const vaultHost = `${VAULT}.vault.${SUFFIX}`;
  // The private copies go to a directory of this test's own, so "nothing left behind" is exact.
  const cli = (args: string[]) => k.cli(args, { KEYLESS_PRIVATE_HOSTS_DIR: filesDir });

  beforeAll(async () => {
    // A TLS dir of its own: the shared one is issued for keyless.localhost, and re-issuing it would race other files.
    tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-ph-tls-'));
    filesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-ph-files-'));
    k = await serveKeyless(['--dns-suffix', SUFFIX, '--tls-dir', tlsDir]);
    port = new URL(k.ready.endpoints.resourceManager).port;
    conn = Connection.open(k.dataDir);
    const sub = `/subscriptions/${k.ready.subscriptionId}`;
    const rg = `${sub}/resourceGroups/ph-rg`;
    await conn.arm('PUT', `${rg}?api-version=2021-04-01`, { location: 'westeurope' });
    const vm = await conn.arm('PUT', `${rg}/providers/Microsoft.Compute/virtualMachines/ph-vm?api-version=2024-07-01`, { location: 'westeurope', identity: { type: 'SystemAssigned' } });
    await conn.arm('PUT', `${rg}/providers/Microsoft.Web/sites/ph-site?api-version=2023-12-01`, { location: 'westeurope', identity: { type: 'SystemAssigned' } });
    const admin = JSON.parse(fs.readFileSync(k.ready.adminFile, 'utf8')) as { objectId: string; clientId: string; clientSecret: string };
    const policy = (objectId: string, secrets: string[]) => ({ tenantId: k.ready.tenantId, objectId, permissions: { secrets } });
    await conn.arm('PUT', `${rg}/providers/Microsoft.KeyVault/vaults/${VAULT}?api-version=2023-07-01`, {
      location: 'westeurope',
      properties: {
        tenantId: k.ready.tenantId,
        sku: { family: 'A', name: 'standard' },
        enableRbacAuthorization: false,
        accessPolicies: [policy(admin.objectId, ['get', 'set']), policy(vm.identity.principalId as string, ['get'])],
      },
    });
    const ca = fs.readFileSync(k.ready.caFile, 'utf8');
    const t = await http('POST', `${k.ready.endpoints.authority}/oauth2/v2.0/token`, {
      ca,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: admin.clientId, client_secret: admin.clientSecret, scope: 'https://vault.azure.net/.default' }).toString(),
    });
    expect(t.status, t.text).toBe(200);
    expect(await putSecret(`https://${vaultHost}:${port}/secrets/db-password?api-version=7.4`, t.json.access_token as string, ca, 'from-a-private-name')).toBe(200);
  }, 90_000);
  afterAll(async () => {
    await k?.stop();
    for (const d of [tlsDir, filesDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  it('1. outside the command the vault name does not resolve (the premise)', async () => {
    const r = await runChild('getent', ['hosts', vaultHost], {});
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });

  it('2. inside, getent resolves the vault to loopback; /etc/hosts is untouched and the copy is gone afterwards', async () => {
    const before = fs.readFileSync('/etc/hosts', 'utf8');
    const r = await cli(['run', '--vm', 'ph-vm', '--private-hosts', '--', 'getent', 'hosts', vaultHost, `management.${SUFFIX}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^127\\.\\d+\\.\\d+\\.\\d+\\s+${VAULT}\\.vault\\.keyless\\.test$`, 'm'));
    expect(r.stdout).toMatch(/^127\.\d+\.\d+\.\d+\s+management\.keyless\.test$/m);
    expect(fs.readFileSync('/etc/hosts', 'utf8')).toBe(before);
    expect(fs.readdirSync(filesDir)).toEqual([]);
    expect((await runChild('getent', ['hosts', vaultHost], {})).code).toBe(2);
  });

  it('3. the official SecretClient with ManagedIdentityCredential reads a secret through the private name', async () => {
    const env = JSON.parse((await cli(['env', '--vm', 'ph-vm', '--format', 'json'])).stdout) as Record<string, string>;
    const urlVar = `KEYLESS_VAULT_${VAULT.toUpperCase()}_URL`;
    expect(env[urlVar]).toBe(`https://${vaultHost}:${port}/`);
    const r = await cli(['run', '--vm', 'ph-vm', '--private-hosts', '--', process.execPath, APP, urlVar, 'get', 'db-password']);
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r.stdout)).toMatchObject({ ok: true, value: 'from-a-private-name', id: expect.stringContaining(`https://${vaultHost}:${port}/secrets/db-password/`) });
    expect(fs.readdirSync(filesDir)).toEqual([]);
  });

  it('4. with --app the exit code and a terminating signal pass through as without it', async () => {
    const code = await cli(['run', '--app', 'ph-site', '--private-hosts', '--', 'sh', '-c', 'getent hosts "$1" >/dev/null && exit 7', 'sh', vaultHost]);
    expect(code.code, code.stderr).toBe(7);
    const killed = await cli(['run', '--app', 'ph-site', '--private-hosts', '--', 'sh', '-c', 'kill -TERM $$']);
    expect(killed.code).toBe(143);
    const missing = await cli(['run', '--app', 'ph-site', '--private-hosts', '--', 'no-such-command-keyless']);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain('no-such-command-keyless');
    expect(fs.readdirSync(filesDir)).toEqual([]);
  });

  it('5 (negative). without root the CLI refuses before doing anything, names the alternatives, exit 2', async () => {
    const r = await runChild(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, KEYLESS_BIN, 'run', '--vm', 'ph-vm', '--private-hosts', '--', 'true'],
      { HOME: '/tmp', KEYLESS_DATA_DIR: k.dataDir },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--private-hosts needs root');
    expect(r.stderr).toContain('keyless hosts');
    expect(r.stderr).toContain('libnss-myhostname');
    expect(r.stderr).toContain('systemd-resolved');
  });
});
