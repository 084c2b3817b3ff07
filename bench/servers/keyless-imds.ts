// Bench fixture: a Keyless with one VM (system identity), printing what the load generator needs.
import { startKeyless } from '../../src/index.js';

const k = await startKeyless({ logLevel: 'silent', tlsDir: process.env['KEYLESS_BENCH_TLS_DIR'] });
const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: k.admin.clientId, client_secret: k.admin.clientSecret!, scope: `${k.endpoints.armAudience}.default` });
const tok = await fetchJson(`${k.endpoints.authority}/oauth2/v2.0/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
const auth = { authorization: `Bearer ${tok.access_token}`, 'content-type': 'application/json' };
const rg = `/subscriptions/${k.subscriptionId}/resourceGroups/bench`;
await fetchJson(`${k.endpoints.resourceManager}${rg}?api-version=2021-04-01`, { method: 'PUT', headers: auth, body: JSON.stringify({ location: 'westeurope' }) });
const vm = await fetchJson(`${k.endpoints.resourceManager}${rg}/providers/Microsoft.Compute/virtualMachines/vm1?api-version=2024-07-01`, {
  method: 'PUT',
  headers: auth,
  body: JSON.stringify({ location: 'westeurope', identity: { type: 'SystemAssigned' } }),
});
const imds = k.imdsEndpoint(vm.id)!;
const path = '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net';
const answer = await fetch(`${imds}${path}`, { headers: { Metadata: 'true' } });
const sample = await answer.text();
process.stdout.write(JSON.stringify({ imds, path, sample, server: answer.headers.get('server') }) + '\n');
process.on('SIGTERM', () => void k.stop().then(() => process.exit(0)));

async function fetchJson(url: string, init: { method: string; headers: Record<string, string>; body?: string }): Promise<any> {
  const https = await import('node:https');
  const fs = await import('node:fs');
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: init.method, headers: init.headers, ca: fs.readFileSync(k.caFile) }, (res) => {
      let d = '';
      res.on('data', (c) => (d += c));
      res.on('end', () => resolve(JSON.parse(d)));
    });
    req.on('error', reject);
    if (init.body) req.write(init.body);
    req.end();
  });
}
