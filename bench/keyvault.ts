/**
 * Key Vault get-secret with a bearer token and RBAC (vault with enableRbacAuthorization, caller holding Key Vault
 * Secrets User, token obtained once) against bare node:https answering the same JSON body. Goal ≥ 0.5×.
 * Usage: npx tsx bench/keyvault.ts [--runs 5] [--seconds 5]
 */
import fs from 'node:fs';
import { benchTlsDir, compareLoads, LOAD_TABLE_HEAD, loadRow, machine, numArg, request, startFixture } from './lib.js';

export async function benchKeyVault(runs: number, seconds: number): Promise<string> {
  const tls = await benchTlsDir();
  const keyless = await startFixture('bench/servers/keyless-data.ts', { KEYLESS_BENCH_TLS_DIR: tls.dir });
  let bare: Awaited<ReturnType<typeof startFixture>> | undefined;
  try {
    const i = keyless.info;
    const path = '/secrets/db-password?api-version=7.4';
    const headers = { host: i.vaultHost, authorization: `Bearer ${i.reader.kv}` };
    const sample = await request(`https://${i.vaultHost}${path}`, { headers, ca: fs.readFileSync(`${tls.dir}/ca.crt`), connectTo: '127.0.0.1' });
    if (sample.status !== 200) throw new Error(`get-secret: ${sample.status} ${sample.text}`);
    // The baseline answers with the same body and the same Key Vault headers (a fixed request id).
    const kvHeaders = Object.fromEntries(
      ['x-ms-request-id', 'cache-control', 'x-ms-keyvault-region', 'x-ms-keyvault-service-version'].filter((h) => typeof sample.headers[h] === 'string').map((h) => [h, String(sample.headers[h])]),
    );
    bare = await startFixture('bench/servers/bare-https.ts', { BENCH_BODY: sample.text, BENCH_HEADERS: JSON.stringify(kvHeaders), BENCH_CERT: tls.cert, BENCH_KEY: tls.key });
    const r = await compareLoads(
      {
        bare: { url: `${bare.info.url}${path}`, headers: { authorization: headers.authorization } },
        kv: { url: `https://127.0.0.1:${i.port}${path}`, headers, servername: i.vaultHost.split(':')[0] },
      },
      runs,
      seconds,
    );
    return [
      `### Key Vault get-secret (\`npm run bench -- --only kv --runs ${runs} --seconds ${seconds}\`)`,
      '',
      `Machine: ${machine()}. autocannon, 16 connections, keep-alive, HTTPS on both sides (same CA, same key type), ${seconds} s per measurement, median of ${runs} runs.`,
      `Keyless: GET /secrets/{name} on an RBAC vault, bearer token of an app holding Key Vault Secrets User on the vault (token obtained once, so the`,
      `verified-signature cache is warm as it is for a real client). Baseline: bare node:https answering the same ${sample.text.length}-byte JSON body with the same`,
      `Key Vault response headers (${Object.keys(kvHeaders).join(', ')}; a fixed request id), so both send the same bytes.`,
      '',
      ...LOAD_TABLE_HEAD,
      loadRow('bare node:https, same body and headers', r['bare']!),
      loadRow('Key Vault get-secret (bearer + RBAC)', r['kv']!, r['bare'], 'bare', '≥ 0.5×'),
      '',
    ].join('\n');
  } finally {
    await bare?.stop();
    await keyless.stop();
    tls.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write((await benchKeyVault(numArg('runs', 5), numArg('seconds', 5))) + '\n');
}
