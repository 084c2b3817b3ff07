import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeylessServer, resolveConfig, type StartedKeyless } from '../../../src/index.js';
import { http } from '../../support/keyless.js';
import { armAs, clientToken, group, imdsToken, vmBody } from './helpers.js';
import { adminVaultToken, createVault, kv, vaultId } from '../keyvault/helpers.js';

/** Issue 7 item 5: Prometheus metrics on the ops surface, and one structured, redacted log line per request. */
describe('metrics and structured logs', () => {
  let k: StartedKeyless;
  const lines: Record<string, any>[] = [];
  let token: string;
  let vmId: string;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-metrics-'));

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l));
        done();
      },
    });
    const config = resolveConfig({ env: {}, flags: { port: 0, imdsPort: 0, msiPort: 0, dataDir, tlsDir: process.env['KEYLESS_TEST_TLS_DIR'], logLevel: 'info' } });
    k = { ...(await createKeylessServer(config, { logger: pino({ level: 'info' }, sink) })), dataDir };
    token = await clientToken(k, k.admin.clientId, k.admin.clientSecret!, `${k.endpoints.armAudience}.default`);
    expect((await armAs(k, token, 'PUT', group(k, 'm-rg'), { location: 'westeurope' })).status).toBe(201);
    const vm = await armAs(k, token, 'PUT', `${group(k, 'm-rg')}/providers/Microsoft.Compute/virtualMachines/mvm?api-version=2024-07-01`, vmBody);
    vmId = vm.json.id;
    for (let i = 0; i < 3; i++) expect((await imdsToken(k, vmId)).status).toBe(200);
    const nobody = await k.createApplication('nobody');
    const nt = await clientToken(k, nobody.clientId, nobody.clientSecret, `${k.endpoints.armAudience}.default`);
    expect((await armAs(k, nt, 'PUT', group(k, 'nope'), { location: 'westeurope' })).status).toBe(403);
  }, 60_000);
  afterAll(async () => {
    await k?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const scrape = async () => {
    const r = await http('GET', `${k.endpoints.resourceManager}/metrics`);
    expect(r.status).toBe(200);
    expect(String(r.headers['content-type'])).toMatch(/^text\/plain; version=0\.0\.4/);
    return r.text;
  };
  const value = (text: string, series: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(series + ' '));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  it('GET /metrics serves the Prometheus text format without authentication', async () => {
    const text = await scrape();
    for (const name of ['keyless_tokens_issued_total', 'keyless_authz_decisions_total', 'keyless_http_request_duration_seconds', 'keyless_token_cache_hits_total']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).not.toContain('process_cpu'); // its own registry: nothing from prom-client's global one
  });

  it('counts tokens by endpoint, kind and result, and cache hits', async () => {
    const text = await scrape();
    expect(value(text, 'keyless_tokens_issued_total{endpoint="imds",kind="managedIdentity",result="success"}')).toBe(3);
    expect(value(text, 'keyless_token_cache_hits_total')).toBe(2);
    expect(value(text, 'keyless_tokens_issued_total{endpoint="oauth2-v2",kind="clientCredentials",result="success"}')).toBe(2);
    const bad = await http('POST', `${k.endpoints.authority}/oauth2/v2.0/token`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: k.admin.clientId, client_secret: 'wrong', scope: `${k.endpoints.armAudience}.default` }).toString(),
    });
    expect(bad.status).toBe(401);
    expect(value(await scrape(), 'keyless_tokens_issued_total{endpoint="oauth2-v2",kind="clientCredentials",result="failure"}')).toBe(1);
  });

  it('counts authorization decisions per surface and times requests per surface, method and status', async () => {
    const text = await scrape();
    expect(value(text, 'keyless_authz_decisions_total{surface="arm",result="denied"}')).toBe(1);
    expect(value(text, 'keyless_authz_decisions_total{surface="arm",result="allowed"}')).toBeGreaterThanOrEqual(2);
    expect(value(text, 'keyless_http_request_duration_seconds_count{surface="arm",method="PUT",status="201"}')).toBe(2);
    expect(value(text, 'keyless_http_request_duration_seconds_count{surface="arm",method="PUT",status="403"}')).toBe(1);
    expect(value(text, 'keyless_http_request_duration_seconds_count{surface="imds",method="GET",status="200"}')).toBe(3);
    expect(value(text, 'keyless_audit_events_total{category="activity",result="denied"}')).toBe(1);
  });

  it('logs one JSON line per request with a request id — ARM’s own x-ms-request-id when it sets one', async () => {
    const r = await armAs(k, token, 'GET', group(k, 'm-rg'));
    const id = String(r.headers['x-ms-request-id']);
    const line = lines.find((l) => l.msg === 'request' && l.reqId === id);
    expect(line).toMatchObject({ surface: 'arm', method: 'GET', status: 200, reqId: id });
    expect(typeof line!['ms']).toBe('number');
    const login = lines.filter((l) => l.msg === 'request' && l.surface === 'login');
    expect(login.length).toBeGreaterThanOrEqual(2);
    for (const l of login) expect(l.reqId).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines.some((l) => l.msg === 'request' && l.surface === 'imds' && l.reqId)).toBe(true);
    // Surfaces without their own id send the generated one, so a client can quote it.
    const health = await http('GET', `${k.endpoints.resourceManager}/health`);
    expect(lines.find((l) => l.msg === 'request' && l.path === '/health')?.reqId).toBe(health.headers['x-ms-request-id']);
  });

  it('Key Vault answers, the in-memory get included, are logged under the x-ms-request-id they sent', async () => {
    await createVault(k, 'm-rg', 'kv-logged', { enableRbacAuthorization: true });
    const admin = await adminVaultToken(k);
    const oid = JSON.parse(Buffer.from(admin.split('.')[1]!, 'base64url').toString()).oid as string;
    await k.assignRole({ principalId: oid, role: 'Key Vault Secrets Officer', scope: vaultId(k, 'm-rg', 'kv-logged') });
    expect((await kv(k, admin, 'PUT', 'kv-logged', '/secrets/s1', { value: 'v' })).status).toBe(200);
    // The first read takes the full pipeline, the repeats the in-memory path (fast-path.test.ts shows both answer alike).
    const reads = [];
    for (let i = 0; i < 3; i++) reads.push(await kv(k, admin, 'GET', 'kv-logged', '/secrets/s1'));
    const ids = reads.map((r) => String(r.headers['x-ms-request-id']));
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(lines.find((l) => l.msg === 'request' && l.reqId === id)).toMatchObject({ surface: 'keyvault', method: 'GET', status: 200 });
    }
  });

  it('never logs tokens, secrets or query strings', async () => {
    await http('GET', `${k.endpoints.resourceManager}/health?sig=SIGNATURE-IN-QUERY&client_secret=abc`);
    const dump = JSON.stringify(lines);
    expect(dump).not.toContain(k.admin.clientSecret!);
    expect(dump).not.toContain(token);
    expect(dump).not.toContain('SIGNATURE-IN-QUERY');
    expect(dump).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./);
  });
});
