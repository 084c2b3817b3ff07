import fs from 'node:fs';
import path from 'node:path';
import { requestJson } from './http.js';

export interface Runtime {
  pid: number;
  tenantId: string;
  subscriptionId: string;
  caFile: string;
  caBundleFile: string;
  adminFile: string;
  dnsSuffix: string;
  endpoints: { resourceManager: string; authorityHost: string; authority: string; armAudience: string; openIdConfiguration: string; jwksUri: string; issuer: string };
}

export const runtimeFile = (dataDir: string): string => path.join(dataDir, 'runtime.json');

export class CliError extends Error {
  override name = 'CliError';
}

/** A running Keyless found through its data directory, with an admin token for ARM calls. */
export class Connection {
  private token: { value: string; exp: number } | undefined;
  readonly ca: string;

  private constructor(
    readonly runtime: Runtime,
    private readonly admin: { clientId: string; clientSecret?: string },
  ) {
    this.ca = fs.readFileSync(runtime.caFile, 'utf8');
  }

  static open(dataDir: string): Connection {
    const file = runtimeFile(dataDir);
    if (!fs.existsSync(file)) throw new CliError(`no running Keyless found: ${file} does not exist (start one with 'keyless serve --data-dir ${dataDir}')`);
    const runtime = JSON.parse(fs.readFileSync(file, 'utf8')) as Runtime;
    if (!isAlive(runtime.pid)) throw new CliError(`Keyless (pid ${runtime.pid}) recorded in ${file} is not running`);
    const admin = JSON.parse(fs.readFileSync(runtime.adminFile, 'utf8')) as { clientId: string; clientSecret?: string };
    return new Connection(runtime, admin);
  }

  async armToken(): Promise<string> {
    const now = Date.now() / 1000;
    if (this.token && this.token.exp - now > 120) return this.token.value;
    if (!this.admin.clientSecret) throw new CliError(`${this.runtime.adminFile} holds no client secret`);
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.admin.clientId,
      client_secret: this.admin.clientSecret,
      scope: `${this.runtime.endpoints.armAudience}.default`,
    });
    const r = await requestJson('POST', `${this.runtime.endpoints.authority}/oauth2/v2.0/token`, {
      ca: this.ca,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    if (r.status !== 200) throw new CliError(`token request failed (${r.status}): ${r.body?.error_description ?? JSON.stringify(r.body)}`);
    this.token = { value: r.body.access_token, exp: now + Number(r.body.expires_in) };
    return this.token.value;
  }

  async arm(method: string, pathAndQuery: string, body?: unknown): Promise<any> {
    const r = await requestJson(method, `${this.runtime.endpoints.resourceManager}${pathAndQuery}`, {
      ca: this.ca,
      headers: { Authorization: `Bearer ${await this.armToken()}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (r.status >= 400) {
      const e = r.body?.error;
      throw new CliError(e ? `${e.code}: ${e.message}` : `HTTP ${r.status} for ${method} ${pathAndQuery}`);
    }
    return r.body;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
