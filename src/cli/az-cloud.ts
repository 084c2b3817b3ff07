import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CliError, type Runtime } from './connection.js';

/**
 * `az cloud register --cloud-config @file` for a running Keyless. Notes from driving Debian's az 2.45:
 * - `activeDirectory` ends in /adfs: az 2.45 cannot turn MSAL instance discovery off, and an ADFS-style
 *   authority is the one kind MSAL does not send to login.microsoftonline.com.
 * - `profile` sits inside the JSON because `--profile` is ignored with `--cloud-config`; the hybrid profile is
 *   what makes `az vm identity assign` (and storage account commands) work with the packaged SDKs.
 * - `storageEndpoint` carries the port when it is not 443: az builds https://<account>.blob.<storageEndpoint>
 *   by concatenation, and Keyless's HTTPS port is usually not 443.
 */
export interface AzCloudConfig {
  endpoints: Record<string, string>;
  suffixes: Record<string, string>;
  profile: string;
}

export const AZ_CLOUD_PROFILE = '2020-09-01-hybrid';
export const DEFAULT_CLOUD_NAME = 'Keyless';

export function azCloudConfig(rt: Pick<Runtime, 'dnsSuffix' | 'endpoints'>): AzCloudConfig {
  const arm = rt.endpoints.resourceManager.replace(/\/+$/, '');
  const authority = rt.endpoints.authorityHost.replace(/\/+$/, '');
  const audience = rt.endpoints.armAudience.endsWith('/') ? rt.endpoints.armAudience : `${rt.endpoints.armAudience}/`;
  const port = new URL(arm).port;
  return {
    endpoints: {
      resourceManager: `${arm}/`,
      management: audience,
      activeDirectory: `${authority}/adfs`,
      activeDirectoryResourceId: audience,
      activeDirectoryGraphResourceId: `${arm}/`,
      microsoftGraphResourceId: `${arm}/`,
      gallery: `${arm}/`,
      portal: `${arm}/portal`,
    },
    suffixes: {
      keyvaultDns: `.vault.${rt.dnsSuffix}`,
      storageEndpoint: port && port !== '443' ? `${rt.dnsSuffix}:${port}` : rt.dnsSuffix,
    },
    profile: AZ_CLOUD_PROFILE,
  };
}

export function writeAzCloudConfig(file: string, cfg: AzCloudConfig): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(cfg, null, 2) + '\n');
}

export interface RegisterOptions {
  file: string;
  name: string;
  /** AZURE_CONFIG_DIR for az (default: az's own, ~/.azure). */
  configDir?: string;
  caBundleFile: string;
  az?: string;
}

/**
 * Registers (or, when the name exists, updates) the cloud and makes it active. az reads the CA bundle from
 * REQUESTS_CA_BUNDLE for anything it fetches; register itself needs no request when the config is complete.
 */
export async function registerAzCloud(o: RegisterOptions): Promise<{ action: 'registered' | 'updated' }> {
  const env: NodeJS.ProcessEnv = { ...process.env, REQUESTS_CA_BUNDLE: o.caBundleFile, AZURE_CORE_COLLECT_TELEMETRY: 'false' };
  if (o.configDir) env['AZURE_CONFIG_DIR'] = o.configDir;
  const az = o.az ?? 'az';
  const config = `@${path.resolve(o.file)}`;
  // Each az start costs seconds: try register first and update only when az says the name is taken.
  let action: 'registered' | 'updated' = 'registered';
  const reg = await execAz(az, ['cloud', 'register', '-n', o.name, '--cloud-config', config, '-o', 'none'], env, true);
  if (reg.code !== 0) {
    if (!/already registered/i.test(reg.stderr)) throw new CliError(`az cloud register failed: ${reg.stderr.trim() || reg.stdout.trim()}`);
    action = 'updated';
    await execAz(az, ['cloud', 'update', '-n', o.name, '--cloud-config', config, '-o', 'none'], env);
  }
  await execAz(az, ['cloud', 'set', '-n', o.name, '-o', 'none'], env);
  return { action };
}

function execAz(az: string, args: string[], env: NodeJS.ProcessEnv, allowFailure = false): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(az, args, { env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
      if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
        reject(new CliError(`'${az}' not found: install the Azure CLI (Debian: apt-get install azure-cli) or pass --az <path>`));
        return;
      }
      if (code !== 0 && !allowFailure) {
        reject(new CliError(`az ${args.join(' ')} failed: ${String(stderr).trim() || String(stdout).trim()}`));
        return;
      }
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
