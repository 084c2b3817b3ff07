import { type Command, Option } from 'commander';
import { formatDuration } from '../faults/duration.js';
import { CliError, Connection } from './connection.js';

const SURFACES: [name: string, what: string][] = [
  ['imds', "a VM's IMDS (169.254.169.254 / AZURE_POD_IDENTITY_AUTHORITY_HOST)"],
  ['appservice', 'the App Service / Cloud Shell identity endpoints (IDENTITY_ENDPOINT, MSI_ENDPOINT)'],
  ['login', 'the Entra-style token endpoints (client credentials, federated and certificate assertions)'],
  ['arm', 'Azure Resource Manager'],
  ['keyvault', 'the Key Vault data plane'],
  ['blob', 'the Blob data plane'],
];

interface WireFault {
  id: string;
  surface: string;
  target?: string;
  path?: string;
  status?: number;
  retryAfter?: number;
  latencyMs?: number;
  connection?: string;
  shiftSeconds?: number;
  remainingSeconds: number;
  remainingCount?: number;
  applied: number;
}

/**
 * `keyless fault …`: set, list and clear faults on a running Keyless (POST/GET/DELETE /keyless/v1/faults), to
 * see how an application's retry logic copes with IMDS updating, throttling, outages and clock skew.
 */
export function registerFaultCommand(program: Command, dataDirOption: () => Option): void {
  const fault = program
    .command('fault')
    .description('inject faults: errors, latency, connection resets and clock skew (docs/fault-injection.md)')
    .addHelpText('after', '\nExamples:\n  keyless fault imds --status 410 --for 30s\n  keyless fault imds --status 429 --retry-after 5 --count 3\n  keyless fault login --latency 2s\n  keyless fault clock --shift +10m\n  keyless fault list\n  keyless fault clear --all\n');

  for (const [surface, what] of SURFACES) {
    fault
      .command(surface)
      .description(`fail or slow down requests to ${what}`)
      .option('--status <code>', 'answer with this HTTP status (400-599), in the surface’s own error format')
      .option('--retry-after <seconds>', 'send Retry-After with the status')
      .option('--message <text>', 'the error message (default: says it was injected)')
      .option('--latency <duration>', 'delay the answer (e.g. 500ms, 2s); alone, the normal answer comes late')
      .option('--reset', 'reset the connection (the client sees ECONNRESET)')
      .option('--drop', 'never answer (the client times out)')
      .option('--target <name>', surface === 'imds' || surface === 'appservice' ? 'only this VM or web app (name or resource id)' : surface === 'keyvault' ? 'only this vault' : surface === 'blob' ? 'only this storage account' : 'not available here: use --path')
      .option('--path <text>', 'only requests whose path contains this')
      .option('--for <duration>', 'lifetime (default 5m, at most 24h)')
      .option('--count <n>', 'expire after this many requests')
      .option('--json', 'print the fault as JSON')
      .addOption(dataDirOption())
      .action(async (o) => {
        if (o.reset && o.drop) throw new CliError('pass --reset or --drop, not both');
        const body = {
          surface,
          ...(o.status !== undefined ? { status: integer(o.status, '--status') } : {}),
          ...(o.retryAfter !== undefined ? { retryAfter: integer(o.retryAfter, '--retry-after') } : {}),
          ...(o.message !== undefined ? { message: o.message } : {}),
          ...(o.latency !== undefined ? { latency: o.latency } : {}),
          ...(o.reset ? { connection: 'reset' } : o.drop ? { connection: 'drop' } : {}),
          ...(o.target !== undefined ? { target: o.target } : {}),
          ...(o.path !== undefined ? { path: o.path } : {}),
          ...(o.for !== undefined ? { for: o.for } : {}),
          ...(o.count !== undefined ? { count: integer(o.count, '--count') } : {}),
        };
        await setFault(Connection.open(o.dataDir), body, Boolean(o.json));
      });
  }

  fault
    .command('clock')
    .description("shift the server's clock (token iat/nbf/exp and token validation) to test clock skew")
    .requiredOption('--shift <offset>', 'e.g. +10m, -5m, 90s (use --shift=-5m for negative offsets)')
    .option('--for <duration>', 'lifetime (default 5m, at most 24h)')
    .option('--json', 'print the fault as JSON')
    .addOption(dataDirOption())
    .action(async (o) => {
      await setFault(Connection.open(o.dataDir), { surface: 'clock', shift: o.shift, ...(o.for !== undefined ? { for: o.for } : {}) }, Boolean(o.json));
    });

  fault
    .command('list')
    .description('the faults in force on the server, with what is left of each')
    .option('--json', 'print JSON')
    .addOption(dataDirOption())
    .action(async (o) => {
      const r = (await Connection.open(o.dataDir).arm('GET', '/keyless/v1/faults')) as { value: WireFault[] };
      if (o.json) return void process.stdout.write(JSON.stringify(r.value, null, 2) + '\n');
      if (r.value.length === 0) return void process.stdout.write('no faults\n');
      for (const f of r.value) process.stdout.write(describe(f) + '\n');
    });

  fault
    .command('clear')
    .description('clear one fault by id, or all of them (--all)')
    .argument('[id]', 'fault id, as `keyless fault list` shows it')
    .option('--all', 'clear every fault (the clock returns to real time)')
    .addOption(dataDirOption())
    .action(async (id: string | undefined, o) => {
      if (Boolean(id) === Boolean(o.all)) throw new CliError('pass a fault id or --all');
      const conn = Connection.open(o.dataDir);
      const r = (await conn.arm('DELETE', id ? `/keyless/v1/faults/${encodeURIComponent(id)}` : '/keyless/v1/faults')) as { removed: number };
      process.stdout.write(`cleared ${r.removed} fault${r.removed === 1 ? '' : 's'}\n`);
    });
}

async function setFault(conn: Connection, body: Record<string, unknown>, json: boolean): Promise<void> {
  const f = (await conn.arm('POST', '/keyless/v1/faults', body)) as WireFault;
  process.stdout.write(json ? JSON.stringify(f, null, 2) + '\n' : `set ${describe(f)}\n`);
}

/** One line per fault: `f1  imds  410 (Retry-After 5s)  target vm1  — 29s left, 2 requests left, applied 1`. */
export function describe(f: WireFault): string {
  const effect = [
    f.shiftSeconds !== undefined ? `clock ${f.shiftSeconds >= 0 ? '+' : ''}${formatDuration(f.shiftSeconds * 1000)}` : undefined,
    f.latencyMs !== undefined ? `latency ${formatDuration(f.latencyMs)}` : undefined,
    f.status !== undefined ? `status ${f.status}${f.retryAfter !== undefined ? ` (Retry-After ${f.retryAfter}s)` : ''}` : undefined,
    f.connection !== undefined ? `connection ${f.connection}` : undefined,
  ].filter(Boolean);
  const match = [f.target !== undefined ? `target ${f.target}` : undefined, f.path !== undefined ? `path *${f.path}*` : undefined].filter(Boolean);
  const left = [`${formatDuration(f.remainingSeconds * 1000)} left`, f.remainingCount !== undefined ? `${f.remainingCount} request${f.remainingCount === 1 ? '' : 's'} left` : undefined, `applied ${f.applied}`].filter(Boolean);
  return [f.id, f.surface, effect.join(', '), ...(match.length ? [match.join(', ')] : []), `— ${left.join(', ')}`].join('  ');
}

function integer(v: string, flag: string): number {
  if (!/^\d+$/.test(v)) throw new CliError(`${flag} must be a whole number, got '${v}'`);
  return Number(v);
}
