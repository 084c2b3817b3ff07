import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeylessServer, resolveConfig, type KeylessServer } from '../../../src/index.js';
import { banner } from '../../../src/cli/banner.js';
import type { StartedKeyless } from '../../../src/index.js';
import { http } from '../../support/keyless.js';
import { admin, armAs, clientToken, group } from '../audit/helpers.js';
import { adminVaultToken, createVault, kv, tokenFor } from '../keyvault/helpers.js';
import { createAccount, raw } from '../blob/helpers.js';

/** A server in the given mode whose pino log lines are kept (startKeyless has no logger option). */
async function serverIn(mode: 'audit' | 'off', lines: Record<string, unknown>[]): Promise<StartedKeyless> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `keyless-${mode}-`));
  const config = resolveConfig({ env: {}, flags: { dataDir, tlsDir: process.env['KEYLESS_TEST_TLS_DIR'], port: 0, imdsPort: 0, msiPort: 0, authzMode: mode, logLevel: 'warn' } });
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString())), done()) });
  const server: KeylessServer = await createKeylessServer(config, { logger: pino({ level: 'warn' }, sink) });
  return { ...server, dataDir, stop: async () => (await server.stop(), fs.rmSync(dataDir, { recursive: true, force: true })) };
}

const metric = async (k: StartedKeyless, result: string, surface = 'arm'): Promise<number> => {
  const text = (await http('GET', `${k.endpoints.resourceManager}/metrics`)).text;
  const m = new RegExp(`^keyless_authz_decisions_total\\{surface="${surface}",result="${result}"\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
};

/** A principal with no role at all, and the group it would need rights on. */
async function outsider(k: StartedKeyless): Promise<{ objectId: string; token: string; rg: string }> {
  const rg = group(k, 'modes-rg');
  expect((await armAs(k, await admin(k), 'PUT', rg, { location: 'westeurope' })).status).toBe(201);
  const app = await k.createApplication('no-roles');
  return { objectId: app.objectId, rg, token: await clientToken(k, app.clientId, app.clientSecret, `${k.endpoints.armAudience}.default`) };
}

describe('--authz audit: log the denial, allow', () => {
  let k: StartedKeyless;
  const log: Record<string, unknown>[] = [];
  let who: Awaited<ReturnType<typeof outsider>>;
  beforeAll(async () => {
    k = await serverIn('audit', log);
    who = await outsider(k);
  }, 60_000);
  afterAll(async () => k?.stop());

  it('lets a call RBAC would refuse through, and records the would-be denial with its explanation', async () => {
    const before = await metric(k, 'audit-denied');
    const read = await armAs(k, who.token, 'GET', who.rg);
    expect(read.status).toBe(200);
    const write = await armAs(k, who.token, 'PUT', `${who.rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/audited`, { location: 'westeurope' });
    expect(write.status).toBe(201);

    const { events } = await k.audit.query({ categories: ['activity'], principal: who.objectId });
    expect(events.map((e) => [e.operation, e.result, e.details['auditOnly']])).toEqual([
      ['Microsoft.Resources/subscriptions/resourceGroups/read', 'succeeded', true],
      ['Microsoft.ManagedIdentity/userAssignedIdentities/write', 'succeeded', true],
    ]);
    const readEvent = events[0]!;
    expect(readEvent.details['summary']).toMatch(new RegExp(`^denied: .*${who.objectId}`));
    expect(readEvent.details['explanation']).toMatchObject({ allowed: false, reason: 'no-matching-assignment', request: { principalId: who.objectId, scope: who.rg } });
    // Not a denial the caller saw: `status=denied` stays for refusals.
    expect((await k.audit.query({ categories: ['activity'], principal: who.objectId, status: 'denied' })).events).toEqual([]);

    expect(await metric(k, 'audit-denied')).toBeGreaterThanOrEqual(before + 2);
    const warned = log.filter((l) => l['authz'] === 'audit' && l['principalId'] === who.objectId);
    expect(warned.map((l) => l['action'])).toEqual(['Microsoft.Resources/subscriptions/resourceGroups/read', 'Microsoft.ManagedIdentity/userAssignedIdentities/write']);
    expect(warned[0]!['msg']).toBe('authorization would deny (audit mode: allowed)');
  });

  it('data planes too: a Key Vault read and a blob write RBAC would refuse are recorded, unfolded, with their explanation', async () => {
    const app = await k.createApplication('no-data-roles');
    await createVault(k, 'modes-rg', 'audited-vault', { enableRbacAuthorization: true });
    // The admin holds Owner, which has no data actions: its own write is an audit-only pass too.
    expect((await kv(k, await adminVaultToken(k), 'PUT', 'audited-vault', '/secrets/s1', { value: 'v1' })).status).toBe(200);
    const kvToken = await tokenFor(k, app.clientId, app.clientSecret);
    const before = await metric(k, 'audit-denied', 'keyvault');
    for (let i = 0; i < 2; i++) expect((await kv(k, kvToken, 'GET', 'audited-vault', '/secrets/s1')).json.value).toBe('v1');

    const account = await createAccount(k, 'auditedacct', 'modes-rg');
    const blobToken = await tokenFor(k, app.clientId, app.clientSecret, 'https://storage.azure.com/.default');
    const bearer = { authorization: `Bearer ${blobToken}`, 'x-ms-version': '2021-12-02', 'x-ms-date': new Date().toUTCString() };
    const created = await raw('PUT', `${account.pathUrl}/audited?restype=container`, { headers: bearer });
    expect(created.status, created.text).toBe(201);

    await k.audit.flush();
    const { events } = await k.audit.query({ categories: ['data'], principal: app.objectId });
    const reads = events.filter((e) => e.operation === 'Microsoft.KeyVault/vaults/secrets/getSecret/action');
    // Two rows, not one row counted twice: what audit mode let through is never folded away.
    expect(reads.map((e) => [e.result, e.count, e.details['auditOnly']])).toEqual([
      ['succeeded', 1, true],
      ['succeeded', 1, true],
    ]);
    expect(reads[0]!.details['explanation']).toMatchObject({ allowed: false, request: { principalId: app.objectId } });
    const container = events.find((e) => e.details['surface'] === 'blob');
    expect(container?.details).toMatchObject({ auditOnly: true, allowed: true });
    expect(container?.details['explanation']).toMatchObject({ allowed: false });
    expect(await metric(k, 'audit-denied', 'keyvault')).toBe(before + 2);
    expect(await metric(k, 'audit-denied', 'blob')).toBeGreaterThanOrEqual(1);
  });

  it('a call RBAC allows is not flagged', async () => {
    const adminTok = await admin(k);
    expect((await armAs(k, adminTok, 'GET', who.rg)).status).toBe(200);
    const { events } = await k.audit.query({ categories: ['activity'], principal: k.admin.objectId });
    expect(events.filter((e) => e.details['auditOnly'] === true)).toEqual([]);
  });

  it('the deny-assignment admin path stays closed to a principal without the role', async () => {
    const r = await http('POST', `${k.endpoints.resourceManager}/keyless/v1/deny-assignments`, {
      headers: { authorization: `Bearer ${who.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ scope: who.rg, actions: ['*'], principals: ['everyone'] }),
    });
    expect(r.status).toBe(403);
  });

  it('reports the mode in /health and the banner', async () => {
    expect((await http('GET', `${k.endpoints.resourceManager}/health`)).json).toMatchObject({ authorization: 'audit' });
    expect(banner(k)).toContain('Authorization    AUDIT ONLY — denials are logged, not enforced');
  });
});

describe('--authz off: nothing enforced, nothing to record', () => {
  let k: StartedKeyless;
  const log: Record<string, unknown>[] = [];
  let who: Awaited<ReturnType<typeof outsider>>;
  beforeAll(async () => {
    k = await serverIn('off', log);
    who = await outsider(k);
  }, 60_000);
  afterAll(async () => k?.stop());

  it('allows a principal without roles and records no denial of any kind', async () => {
    expect((await armAs(k, who.token, 'GET', who.rg)).status).toBe(200);
    expect((await armAs(k, who.token, 'PUT', `${who.rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/unchecked`, { location: 'westeurope' })).status).toBe(201);
    const { events } = await k.audit.query({ categories: ['activity'], principal: who.objectId });
    expect(events.map((e) => [e.operation, e.result, e.details['auditOnly']])).toEqual([['Microsoft.ManagedIdentity/userAssignedIdentities/write', 'succeeded', undefined]]);
    expect(await metric(k, 'audit-denied')).toBe(0);
    expect(await metric(k, 'denied')).toBe(0);
    expect(log.filter((l) => l['authz'] === 'audit')).toEqual([]);
  });

  it('the deny-assignment admin path stays closed to a principal without the role', async () => {
    const r = await http('POST', `${k.endpoints.resourceManager}/keyless/v1/deny-assignments`, {
      headers: { authorization: `Bearer ${who.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ scope: who.rg, actions: ['*'], principals: ['everyone'] }),
    });
    expect(r.status).toBe(403);
  });

  it('reports the mode in /health and the banner', async () => {
    expect((await http('GET', `${k.endpoints.resourceManager}/health`)).json).toMatchObject({ authorization: 'off' });
    expect(banner(k)).toContain('Authorization    OFF — every authenticated call is allowed');
  });
});
