import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { runChild } from '../../../support/child.js';
import { KEYLESS_BIN, type ServedKeyless } from '../../../support/cli.js';
import { isolationUnavailableReason } from '../../../../src/isolation/system.js';

export const AZ = '/usr/bin/az';
const RUNNER = path.join(import.meta.dirname, 'vm-runner.mjs');
const REQUIRE_ALL = process.env['KEYLESS_REQUIRE_ALL'] === '1';

/** Why Debian's az cannot be driven here, or undefined. */
export function azMissing(): string | undefined {
  return fs.existsSync(AZ) ? undefined : `${AZ} is missing (apt-get install azure-cli)`;
}

export function isolationMissing(): string | undefined {
  return isolationUnavailableReason();
}

/**
 * Decides whether a suite runs. A missing tool skips it loudly — or, under KEYLESS_REQUIRE_ALL=1 (CI), fails
 * the file at collection, so a CI machine without az or root cannot pass by skipping.
 */
export function prerequisites(suite: string, ...reasons: (string | undefined)[]): { skip: boolean } {
  const missing = reasons.filter((r): r is string => Boolean(r));
  if (missing.length === 0) return { skip: false };
  const msg = `${suite}: ${missing.join('; ')}`;
  if (REQUIRE_ALL) throw new Error(`KEYLESS_REQUIRE_ALL=1 but ${msg}`);
  console.warn(`[SKIPPED] ${msg}`);
  return { skip: true };
}

export interface AzResult {
  code: number | null;
  stdout: string;
  stderr: string;
  json: any;
}

function withJson(r: { code: number | null; stdout: string; stderr: string }): AzResult {
  let json: unknown;
  try {
    json = r.stdout.trim() ? JSON.parse(r.stdout) : undefined;
  } catch {
    json = undefined;
  }
  return { ...r, json };
}

/** The environment every az run gets: its own config dir, the test CA bundle, no telemetry, no colour. */
export function azEnv(configDir: string): Record<string, string> {
  return {
    AZURE_CONFIG_DIR: configDir,
    REQUESTS_CA_BUNDLE: process.env['KEYLESS_TEST_CA_BUNDLE']!,
    AZURE_CORE_COLLECT_TELEMETRY: 'false',
    AZURE_CORE_NO_COLOR: 'true',
    AZURE_CORE_ONLY_SHOW_ERRORS: 'true',
  };
}

/** Debian's /usr/bin/az with an isolated AZURE_CONFIG_DIR, as a child process on the host. */
export class Az {
  readonly configDir: string;
  constructor(configDir?: string) {
    this.configDir = configDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-az-'));
  }

  async run(args: string[], env: Record<string, string> = {}, timeoutMs = 90_000): Promise<AzResult> {
    return withJson(await runChild(AZ, args, { ...azEnv(this.configDir), ...env }, timeoutMs));
  }

  dispose(): void {
    fs.rmSync(this.configDir, { recursive: true, force: true });
  }
}

/** `keyless az-cloud --register` into a config dir: the user's path to a Keyless cloud in az. */
export async function registerKeylessCloud(k: ServedKeyless, configDir: string): Promise<void> {
  const r = await k.cli(['az-cloud', '--register', '--config-dir', configDir], { REQUESTS_CA_BUNDLE: process.env['KEYLESS_TEST_CA_BUNDLE']! });
  if (r.code !== 0) throw new Error(`keyless az-cloud --register failed (${r.code}): ${r.stderr}`);
}

/**
 * One isolated VM for a whole test file: `keyless run --isolated --vm NAME -- node vm-runner.mjs`, then
 * commands go to the runner inside the namespace. Each command sees exactly what a process on the VM sees.
 */
export class IsolatedVm {
  private next = 1;
  private readonly pending = new Map<number, (r: { code: number | null; stdout: string; stderr: string }) => void>();
  private stderr = '';
  readonly exited: Promise<number | null>;

  private constructor(
    readonly process: ChildProcess,
    readonly configDir: string,
  ) {
    this.exited = new Promise((resolve) => process.once('exit', (code) => resolve(code)));
    process.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  static async start(k: ServedKeyless, vm: string, opts: { configDir?: string; group?: string } = {}): Promise<IsolatedVm> {
    const configDir = opts.configDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-az-vm-'));
    const args = [KEYLESS_BIN, 'run', '--isolated', '--vm', vm, ...(opts.group ? ['-g', opts.group] : []), '--', process.execPath, RUNNER];
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, KEYLESS_DATA_DIR: k.dataDir } });
    const v = new IsolatedVm(child, configDir);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`isolated VM did not start: ${v.stderr}`)), 60_000);
      const rl = createInterface({ input: child.stdout! });
      rl.on('line', (line) => {
        let msg: any;
        try {
          msg = JSON.parse(line);
        } catch {
          return;
        }
        if (msg.ready) {
          clearTimeout(timer);
          resolve();
        } else if (typeof msg.id === 'number') {
          v.pending.get(msg.id)?.(msg);
          v.pending.delete(msg.id);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`isolated VM exited (${code}): ${v.stderr}`));
        for (const p of v.pending.values()) p({ code: -1, stdout: '', stderr: `isolated VM exited: ${v.stderr}` });
      });
    });
    return v;
  }

  exec(cmd: string, args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<AzResult> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.pending.set(id, (r) => resolve(withJson(r)));
      this.process.stdin!.write(JSON.stringify({ id, cmd, args, env, timeoutMs }) + '\n');
    });
  }

  /** az as the VM: only the config dir, no telemetry and quiet warnings — no identity variables of any kind. */
  az(args: string[], env: Record<string, string> = {}): Promise<AzResult> {
    return this.exec(AZ, args, { AZURE_CONFIG_DIR: this.configDir, AZURE_CORE_COLLECT_TELEMETRY: 'false', AZURE_CORE_NO_COLOR: 'true', AZURE_CORE_ONLY_SHOW_ERRORS: 'true', ...env });
  }

  /** Ends the session: closing stdin ends the runner; the CLI then removes the namespace. */
  async stop(): Promise<number | null> {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.stdin!.end();
    const code = await this.exited;
    fs.rmSync(this.configDir, { recursive: true, force: true });
    return code;
  }

  get log(): string {
    return this.stderr;
  }
}

/**
 * The operator's az on the host, as the walkthroughs start: `keyless az-cloud --register`, then
 * `az login --service-principal` with the admin credential Keyless wrote at first start.
 */
export async function adminAz(k: ServedKeyless): Promise<Az> {
  const az = new Az();
  await registerKeylessCloud(k, az.configDir);
  const admin = JSON.parse(fs.readFileSync(k.ready.adminFile, 'utf8')) as { clientId: string; clientSecret: string };
  const r = await az.run(['login', '--service-principal', '-u', admin.clientId, `--password=${admin.clientSecret}`, '--tenant', k.ready.tenantId, '-o', 'none']);
  if (r.code !== 0) throw new Error(`az login --service-principal failed: ${r.stderr}`);
  return az;
}

/** `keyless apply` of an environment file (how a VM comes to exist on Keyless). */
export async function applyEnvironment(k: ServedKeyless, yaml: string): Promise<void> {
  const file = path.join(k.dataDir, `env-${Date.now()}.yaml`);
  fs.writeFileSync(file, yaml);
  const r = await k.cli(['apply', file]);
  if (r.code !== 0) throw new Error(`keyless apply failed: ${r.stderr}`);
}

/** `az rest` PUT of a role assignment: Debian's `az role assignment create` crashes client-side (clients.md §1.6). */
export function roleAssignmentArgs(k: ServedKeyless, scope: string, roleGuid: string, principalId: string): string[] {
  const url = `${k.ready.endpoints.resourceManager}${scope}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`;
  const body = { properties: { roleDefinitionId: `/subscriptions/${k.ready.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`, principalId, principalType: 'ServicePrincipal' } };
  return ['rest', '--method', 'put', '--url', url, '--body', JSON.stringify(body), '-o', 'json'];
}

/**
 * `az storage account create`, or — while Keyless answers that PUT with 201, which the packaged SDK's poller
 * refuses — the same PUT through `az rest`, with a PENDING note so the gap stays visible.
 */
export async function createStorageAccount(az: Az, k: ServedKeyless, group: string, name: string): Promise<'az storage account create' | 'az rest'> {
  const r = await az.run(['storage', 'account', 'create', '-g', group, '-n', name, '-l', 'westeurope', '--sku', 'Standard_LRS', '-o', 'none']);
  if (r.code === 0) return 'az storage account create';
  if (!/invalid status 'Created'/.test(r.stderr)) throw new Error(`az storage account create failed: ${r.stderr}`);
  console.warn('[PENDING] az storage account create: Keyless returns 201 for the storage account PUT (az 2.45 accepts 200/202); created with az rest instead');
  const url = `${k.ready.endpoints.resourceManager}/subscriptions/${k.ready.subscriptionId}/resourceGroups/${group}/providers/Microsoft.Storage/storageAccounts/${name}?api-version=2023-01-01`;
  const exists = await az.run(['rest', '--url', url, '-o', 'none']);
  if (exists.code !== 0) {
    const put = await az.run(['rest', '--method', 'put', '--url', url, '--body', JSON.stringify({ location: 'westeurope', kind: 'StorageV2', sku: { name: 'Standard_LRS' } }), '-o', 'none']);
    if (put.code !== 0) throw new Error(`storage account PUT failed: ${put.stderr}`);
  }
  return 'az rest';
}
