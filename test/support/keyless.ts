import fs from 'node:fs';
import https from 'node:https';
import * as nodeHttp from 'node:http';
import { startKeyless, type StartOptions, type StartedKeyless } from '../../src/index.js';

/** A real Keyless on ephemeral ports, trusting the run's shared CA (see global-setup.ts). */
export async function startTestKeyless(opts: StartOptions = {}): Promise<StartedKeyless> {
  const tlsDir = process.env['KEYLESS_TEST_TLS_DIR'];
  if (!tlsDir) throw new Error('test/support/global-setup.ts did not run (KEYLESS_TEST_TLS_DIR unset)');
  return startKeyless({ tlsDir, logLevel: 'silent', ...opts });
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** Raw HTTP(S) for wire-level assertions (status, exact bodies, headers). */
export function http(
  method: string,
  url: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer; ca?: string } = {},
): Promise<HttpResult> {
  const mod = url.startsWith('https:') ? https : nodeHttp;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { method, headers: opts.headers ?? {}, ...(url.startsWith('https:') ? { ca: opts.ca ?? caPem() } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('error', reject); // a server dying mid-body ('aborted', ECONNRESET)
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}


export function caPem(): string {
  return fs.readFileSync(process.env['NODE_EXTRA_CA_CERTS']!, 'utf8');
}

/** Admin bearer token for ARM through the real token endpoint. */
export async function adminToken(k: StartedKeyless, scope = `${k.endpoints.armAudience}.default`): Promise<string> {
  const r = await http('POST', `${k.endpoints.authority}/oauth2/v2.0/token`, {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: k.admin.clientId, client_secret: k.admin.clientSecret!, scope }).toString(),
  });
  if (r.status !== 200) throw new Error(`admin token failed: ${r.status} ${r.text}`);
  return r.json.access_token as string;
}

/** ARM call as the admin (or with a given token). */
export async function arm(k: StartedKeyless, method: string, path: string, body?: unknown, token?: string): Promise<HttpResult> {
  const t = token ?? (await adminToken(k));
  const sep = path.includes('?') ? '&' : '?';
  const url = `${k.endpoints.resourceManager}${path}${/api-version=/.test(path) ? '' : `${sep}api-version=2024-01-01`}`;
  return http(method, url, {
    headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}
