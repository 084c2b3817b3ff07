import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../../support/keyless.js';
import { serveKeyless, type ServedKeyless } from '../../support/cli.js';

const TOKEN_PATH = '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net';

/** `keyless fault …` against `keyless serve --imds-throttle`, as a user runs both. */
describe('keyless fault (CLI)', () => {
  let s: ServedKeyless;
  let imds: string;

  beforeAll(async () => {
    s = await serveKeyless(['--imds-throttle']);
    const admin = JSON.parse(fs.readFileSync(s.ready.adminFile, 'utf8'));
    const t = await http('POST', `${s.ready.endpoints.authority}/oauth2/v2.0/token`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: admin.clientId, client_secret: admin.clientSecret, scope: `${s.ready.endpoints.armAudience}.default` }).toString(),
    });
    const armPut = async (p: string, body: unknown) => {
      const r = await http('PUT', `${s.ready.endpoints.resourceManager}${p}?api-version=2024-01-01`, { headers: { authorization: `Bearer ${t.json.access_token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(r.status, r.text).toBeLessThan(300);
    };
    const rg = `/subscriptions/${s.ready.subscriptionId}/resourceGroups/cli-faults`;
    await armPut(rg, { location: 'westeurope' });
    await armPut(`${rg}/providers/Microsoft.Compute/virtualMachines/cli-fault-vm`, { location: 'westeurope', identity: { type: 'SystemAssigned' } });
    const env = await s.cli(['env', '--vm', 'cli-fault-vm', '--format', 'json']);
    expect(env.code, env.stderr).toBe(0);
    imds = JSON.parse(env.stdout)['AZURE_POD_IDENTITY_AUTHORITY_HOST'];
  }, 120_000);
  afterAll(async () => s?.stop());

  const imdsGet = () => http('GET', `${imds}${TOKEN_PATH}`, { headers: { Metadata: 'true' } });

  it('sets an IMDS fault, lists it with what is left, and clears it', async () => {
    const set = await s.cli(['fault', 'imds', '--status', '410', '--for', '30s', '--count', '2', '--target', 'cli-fault-vm']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/^set f1 {2}imds {2}status 410 {2}target cli-fault-vm {2}— (29|30)s left, 2 requests left, applied 0$/m);
    const r = await imdsGet();
    expect(r.status).toBe(410);
    expect(r.json.error).toBe('gone');
    const list = await s.cli(['fault', 'list']);
    expect(list.stdout).toMatch(/f1 {2}imds {2}status 410 .*1 request left, applied 1/);
    const cleared = await s.cli(['fault', 'clear', 'f1']);
    expect(cleared.stdout).toBe('cleared 1 fault\n');
    expect((await imdsGet()).status).toBe(200);
  });

  it('shifts the clock (negative offsets too) and clears everything with --all', async () => {
    // Set back 5 minutes, the admin secret (minutes old) is not valid yet, as on a slow real clock: keep it short.
    const back = await s.cli(['fault', 'clock', '--shift', '-5m', '--for', '1s', '--json']);
    expect(back.code, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({ surface: 'clock', shiftSeconds: -300 });
    await new Promise((r) => setTimeout(r, 1100));
    const ahead = await s.cli(['fault', 'clock', '--shift', '+10m']);
    expect(ahead.stdout).toMatch(/^set f\d+ {2}clock {2}clock \+10m {2}— /);
    await s.cli(['fault', 'login', '--latency', '2s', '--path', '/nowhere']);
    const list = await s.cli(['fault', 'list', '--json']);
    expect(JSON.parse(list.stdout).map((f: { surface: string }) => f.surface)).toEqual(['clock', 'login']);
    const all = await s.cli(['fault', 'clear', '--all']);
    expect(all.stdout).toBe('cleared 2 faults\n');
    expect((await s.cli(['fault', 'list'])).stdout).toBe('no faults\n');
  });

  it('explains a fault it cannot set', async () => {
    const none = await s.cli(['fault', 'imds']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/InvalidFault: A fault needs an effect/);
    const target = await s.cli(['fault', 'login', '--status', '500', '--target', 'x']);
    expect(target.stderr).toMatch(/has no target; narrow it with path/);
    const clear = await s.cli(['fault', 'clear']);
    expect(clear.stderr).toMatch(/pass a fault id or --all/);
  });

  it('serve --imds-throttle answers bursts beyond the per-VM limits with 429', async () => {
    // At the top of a second, so the whole burst falls in one rate window.
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
    const burst = await Promise.all(Array.from({ length: 30 }, imdsGet));
    const throttled = burst.filter((r) => r.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    expect(throttled[0]!.headers['retry-after']).toBe('1');
  });
});
