#!/usr/bin/env node
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { Command, Option } from 'commander';
import { ConfigError, resolveConfig } from '../server/config.js';
import { reportStartup, startupMark } from '../server/startup-trace.js';
import { applyEnvironment, parseEnvironment, SpecError } from '../seed/index.js';
import { CliError, Connection, runtimeFile } from './connection.js';
import { requestJson } from './http.js';
import { resolveVm, vmEnvironment } from './vm.js';
import { addIdentityOptions, explainRun, identityEnvironment, resolveApp, wantsIdentityRoute } from './identity.js';
import { resolveIdentity, startWorkloadIdentity, type WorkloadRun } from './workload-identity.js';
import { registerFaultCommand } from './fault.js';
import { registerDenyCommand } from './deny.js';

const program = new Command('keyless')
  .description('Self-hosted, Azure wire-compatible managed identities: IMDS, Entra-style tokens, ARM and RBAC.')
  .showHelpAfterError();

const dataDirOption = () => new Option('--data-dir <dir>', 'data directory of the server').env('KEYLESS_DATA_DIR').default('.keyless');

program
  .command('serve')
  .description('run the Keyless server (npm start)')
  .addOption(dataDirOption())
  .option('--config <file>', 'config file (YAML or JSON); flags and KEYLESS_* env override it')
  .option('--database-url <url>', 'postgres://… for the scale-out store (default: SQLite in the data dir)')
  .option('--memory', 'keep the store in memory (nothing survives a restart)')
  .option('--tls-dir <dir>', 'directory of the local CA and server certificate (default <data-dir>/tls)')
  .option('--master-key-file <file>', 'master key for secrets at rest (default <data-dir>/master.key); replicas must share it')
  .option('--host <address>', 'address the HTTPS listener binds')
  .option('--port <port>', 'HTTPS port (ARM, login, Key Vault, Blob, portal); 0 = ephemeral')
  .option('--imds-port <port>', "port of every VM's IMDS listener; 0 = ephemeral")
  .option('--imds-throttle', "enforce Azure IMDS's per-VM rate limits (20 token requests/s, 5 concurrent) with 429 + Retry-After")
  .option('--msi-port <port>', 'port of the App Service identity endpoint of web apps (127.0.0.1); 0 = ephemeral')
  .option('--public-host <name>', 'host name used in the URLs Keyless hands out')
  .option('--dns-suffix <suffix>', 'suffix for <vault>.vault.<suffix>, <account>.blob.<suffix>, management.<suffix>')
  .addOption(new Option('--authz <mode>', 'authorization mode').choices(['enforce', 'audit', 'off']))
  .option('--authz-propagation-delay <seconds>', 'role assignment / custom role changes take effect only after this delay, as in Azure (default 0)')
  .option('--token-lifetime <seconds>', 'managed-identity token lifetime')
  .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
  .option('--seed <file>', 'apply a declarative environment (YAML) once started')
  .option('--audit-retention-days <days>', 'days audit events (sign-ins, activity, data access) are kept; 0 = forever (default 30)')
  .option('--json', 'print one JSON line when ready instead of the banner (for scripts and CI)')
  .action(async (o) => {
    startupMark('cli loaded');
    const config = resolveConfig({
      configFile: o.config,
      flags: {
        dataDir: o.dataDir,
        databaseUrl: o.databaseUrl,
        memory: o.memory,
        tlsDir: o.tlsDir,
        masterKeyFile: o.masterKeyFile,
        host: o.host,
        port: o.port,
        imdsPort: o.imdsPort,
        imdsThrottle: o.imdsThrottle,
        msiPort: o.msiPort,
        publicHost: o.publicHost,
        dnsSuffix: o.dnsSuffix,
        authzMode: o.authz,
        authzPropagationDelaySec: o.authzPropagationDelay,
        tokenLifetimeSec: o.tokenLifetime,
        logLevel: o.logLevel ?? (o.json ? 'warn' : undefined),
        auditRetentionDays: o.auditRetentionDays,
      },
    });
    // The server is loaded only for `serve`: the other commands start in a fraction of the time.
    const [{ pino }, { createKeylessServer }, { writeSecretFile }, { banner, readyJson }] = await Promise.all([
      import('pino'),
      import('../server/create-server.js'),
      import('../server/bootstrap.js'),
      import('./banner.js'),
    ]);
    // Logs go to stderr so stdout stays the banner / the one JSON line.
    const logger = pino({ level: config.logLevel, base: { svc: 'keyless' } }, pino.destination(2));
    const server = await createKeylessServer(config, { logger });
    startupMark('server created');
    writeSecretFile(
      runtimeFile(config.dataDir),
      JSON.stringify({
        pid: process.pid,
        tenantId: server.tenantId,
        subscriptionId: server.subscriptionId,
        caFile: server.caFile,
        caBundleFile: server.caBundleFile,
        adminFile: server.adminFile,
        dnsSuffix: config.dnsSuffix,
        endpoints: server.endpoints,
      }),
    );
    if (o.seed) {
      const spec = parseEnvironment(fs.readFileSync(o.seed, 'utf8'), o.seed);
      const r = await applyEnvironment(Connection.open(config.dataDir), server.subscriptionId, spec);
      logger.info({ operations: r.operations.length }, `seeded from ${o.seed}`);
    }
    process.stdout.write(o.json ? readyJson(server) + '\n' : banner(server) + '\n');
    startupMark('ready');
    reportStartup();
    const shutdown = async () => {
      await server.stop();
      fs.rmSync(runtimeFile(config.dataDir), { force: true });
      process.exit(0);
    };
    process.once('SIGINT', () => void shutdown());
    process.once('SIGTERM', () => void shutdown());
  });

addIdentityOptions(program
  .command('run'))
  .description('run a command as a VM (--vm), or as an AKS-style workload federated to a user-assigned identity (--workload-identity)')
  .option('--vm <name>', 'VM name or resource id')
  .option('--workload-identity <identity>', "user-assigned identity (name or resource id) whose federated credential trusts Keyless's issuer")
  .option('--subject <subject>', 'with --workload-identity: the token subject, as the federated credential names it')
  .option('--audience <audience>', 'with --workload-identity: the token audience', 'api://AzureADTokenExchange')
  .option('-g, --group <resourceGroup>', 'resource group of the VM or identity (when the name is ambiguous)')
  .addOption(dataDirOption())
  .option('--explain', 'print which identity source each client will pick (to stderr)')
  // Isolated VMs (src/isolation): a network namespace where 169.254.169.254 is the VM's IMDS.
  .option('--isolated', "with --vm: run in a network namespace where 169.254.169.254 is the VM's IMDS and only Keyless is reachable (Linux, root)")
  // src/isolation/private-hosts.ts: a mount namespace, for a --dns-suffix that does not resolve (docs/dns.md).
  .option('--private-hosts', 'give the command a private /etc/hosts naming every vault, storage account and management host of this Keyless (Linux, root; --isolated has its own)')
  .argument('<command...>', 'the command to run, after --')
  .action(async (command: string[], o) => {
    if ([o.vm, o.app, o.workloadIdentity].filter(Boolean).length !== 1) throw new CliError('pass exactly one of --vm, --app and --workload-identity');
    if ((o.az || o.identitySource) && !o.vm) throw new CliError('--az and --identity-source go with --vm');
    if (o.isolated && !o.vm) throw new CliError('--isolated runs a command as a VM: pass --vm');
    if (o.isolated && (o.az || o.identitySource)) throw new CliError('--isolated is the real 169.254.169.254 path: it does not combine with --az or --identity-source');
    if (o.workloadIdentity && !o.subject) throw new CliError('--workload-identity needs --subject (the subject its federated credential names)');
    const privateHosts = o.privateHosts && !o.isolated ? await import('./private-hosts.js') : undefined;
    privateHosts?.requirePrivateHosts();
    const conn = Connection.open(o.dataDir);
    // Workload identity: a token file from Keyless's OIDC issuer, deleted when the child exits.
    let workload: WorkloadRun | undefined;
    if (o.workloadIdentity) {
      const identityId = await resolveIdentity(conn, o.workloadIdentity, o.group);
      workload = await startWorkloadIdentity(conn, { identityId, subject: o.subject, audience: o.audience });
      process.once('exit', () => workload?.stop());
    }
    // [msi] --app (a web app) and --vm with --az / --identity-source come from the identity-environment route.
    const vmId = workload ? undefined : o.app ? await resolveApp(conn, o.app, o.group) : await resolveVm(conn, o.vm, o.group);
    const env = workload ? workload.environment : wantsIdentityRoute(o) ? await identityEnvironment(conn, vmId!, o) : await vmEnvironment(conn, vmId!);
    if (o.isolated) {
      const { runIsolatedVm } = await import('./isolated-vm.js');
      process.exit(await runIsolatedVm(conn, vmId!, command, { explain: o.explain, env }));
    }
    if (o.explain && workload) {
      process.stderr.write(
        `keyless: running as workload '${o.subject}' federated to ${workload.issued.identity.id}\n` +
          `  token from ${workload.issued.issuer} in ${workload.tokenFile} (AZURE_FEDERATED_TOKEN_FILE), client id ${env['AZURE_CLIENT_ID']}\n` +
          `  WorkloadIdentityCredential / ManagedIdentityCredential exchange it at ${env['AZURE_AUTHORITY_HOST']}/${env['AZURE_TENANT_ID']} (AZURE_AUTHORITY_HOST, AZURE_TENANT_ID)\n`,
      );
    } else if (o.explain) {
      process.stderr.write(explainRun(vmId!, env));
    }
    const hosts = privateHosts ? await privateHosts.startPrivateHosts(conn, { explain: o.explain }) : undefined;
    const [cmd, ...args] = hosts ? hosts.command(command) : command;
    const child = spawn(cmd!, args, { stdio: 'inherit', env: { ...process.env, ...env } });
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('error', (e) => {
      process.stderr.write(`keyless: cannot run ${cmd}: ${e.message}\n`);
      process.exit(127);
    });
    // A child killed by a signal exits the way a shell reports it: 128 + the signal number.
    child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 1) : 1)));
  });

// Isolated VMs (src/isolation) and the az custom cloud (src/cli/az-cloud.ts).
const vmCommand = program.command('vm').description('isolated VMs: a shell or command where 169.254.169.254 is the VM (Linux, root)');
vmCommand
  .command('shell')
  .description("open your shell as the VM, in a network namespace where 169.254.169.254 is its IMDS and only Keyless is reachable")
  .argument('<vm>', 'VM name or resource id')
  .option('-g, --group <resourceGroup>', 'resource group of the VM')
  .option('--explain', 'print how the namespace is wired (to stderr)')
  .addOption(dataDirOption())
  .action(async (vm: string, o) => {
    const { runIsolatedVm, shellArgv } = await import('./isolated-vm.js');
    const conn = Connection.open(o.dataDir);
    process.exit(await runIsolatedVm(conn, await resolveVm(conn, vm, o.group), shellArgv(), { explain: o.explain ?? true }));
  });
vmCommand
  .command('cleanup')
  .description('remove isolated-VM namespaces, links and rules whose CLI or server is gone (--all: every one)')
  .option('--all', 'also remove sessions that are still running')
  .action(async (o) => {
    const { cleanupIsolatedVms } = await import('./isolated-vm.js');
    const r = await cleanupIsolatedVms(Boolean(o.all));
    for (const s of r.removed) process.stdout.write(`removed ${s}\n`);
    for (const e of r.errors) process.stderr.write(`keyless: ${e}\n`);
    process.exitCode = r.errors.length ? 1 : 0;
  });

program
  .command('az-cloud')
  .description("write the cloud config for 'az cloud register -n Keyless --cloud-config @FILE' (prints the file path)")
  .option('-f, --file <file>', 'where to write it (default <data-dir>/az-cloud.json)')
  .option('--print', 'print the JSON to stdout instead of writing a file')
  .option('-n, --name <name>', 'cloud name for --register', 'Keyless')
  .option('--register', "also run 'az cloud register' (or update) and 'az cloud set'")
  .option('--config-dir <dir>', 'AZURE_CONFIG_DIR for --register (default: az\'s, ~/.azure)')
  .option('--az <path>', 'the az executable', 'az')
  .addOption(dataDirOption())
  .action(async (o) => {
    const { azCloudConfig, registerAzCloud, writeAzCloudConfig } = await import('./az-cloud.js');
    const conn = Connection.open(o.dataDir);
    const cfg = azCloudConfig(conn.runtime);
    if (o.print && !o.register) return void process.stdout.write(JSON.stringify(cfg, null, 2) + '\n');
    const file = o.file ?? `${o.dataDir}/az-cloud.json`;
    writeAzCloudConfig(file, cfg);
    if (o.register) {
      const r = await registerAzCloud({ file, name: o.name, configDir: o.configDir ?? process.env['AZURE_CONFIG_DIR'], caBundleFile: conn.runtime.caBundleFile, az: o.az });
      process.stderr.write(`keyless: cloud '${o.name}' ${r.action} and set active; next: az login --service-principal or, on an isolated VM, az login --identity\n`);
    }
    process.stdout.write((o.print ? JSON.stringify(cfg, null, 2) : fs.realpathSync(file)) + '\n');
  });

addIdentityOptions(program
  .command('env'))
  .description("print the environment 'keyless run' sets for a VM or web app, as shell exports (eval \"$(keyless env --vm vm1)\")")
  .option('--vm <name>', 'VM name or resource id')
  .option('-g, --group <resourceGroup>', 'resource group of the VM')
  .addOption(new Option('--format <format>', 'output format').choices(['sh', 'json']).default('sh'))
  .addOption(dataDirOption())
  .action(async (o) => {
    if (Boolean(o.vm) === Boolean(o.app)) throw new CliError('pass exactly one of --vm and --app');
    if ((o.az || o.identitySource) && !o.vm) throw new CliError('--az and --identity-source go with --vm');
    const conn = Connection.open(o.dataDir);
    const id = o.app ? await resolveApp(conn, o.app, o.group) : await resolveVm(conn, o.vm, o.group);
    const env = wantsIdentityRoute(o) ? await identityEnvironment(conn, id, o) : await vmEnvironment(conn, id);
    if (o.format === 'json') process.stdout.write(JSON.stringify(env, null, 2) + '\n');
    else for (const [k, v] of Object.entries(env)) process.stdout.write(`export ${k}=${shellQuote(v)}\n`);
  });

program
  .command('ca')
  .description("print the path of Keyless's CA certificate (NODE_EXTRA_CA_CERTS) and bundle (REQUESTS_CA_BUNDLE)")
  .addOption(dataDirOption())
  .option('--bundle', 'print only the bundle path (system CAs + Keyless CA)')
  .option('--pem', 'print the CA certificate itself')
  .action((o) => {
    // A running server knows where its CA is (it may be outside the data dir: --tls-dir).
    const rt = fs.existsSync(runtimeFile(o.dataDir)) ? (JSON.parse(fs.readFileSync(runtimeFile(o.dataDir), 'utf8')) as { caFile: string; caBundleFile: string }) : undefined;
    const ca = fs.realpathSync(rt?.caFile ?? `${o.dataDir}/tls/ca.crt`);
    const bundle = fs.realpathSync(rt?.caBundleFile ?? `${o.dataDir}/tls/ca-bundle.crt`);
    if (o.pem) process.stdout.write(fs.readFileSync(ca, 'utf8'));
    else if (o.bundle) process.stdout.write(bundle + '\n');
    else process.stdout.write(`${ca}\n${bundle}\n`);
  });

program
  .command('apply')
  .description('apply a declarative environment (YAML) to a running Keyless, idempotently')
  .argument('<file>', 'environment file')
  .addOption(dataDirOption())
  .action(async (file: string, o) => {
    const spec = parseEnvironment(fs.readFileSync(file, 'utf8'), file);
    const conn = Connection.open(o.dataDir);
    const r = await applyEnvironment(conn, conn.runtime.subscriptionId, spec);
    for (const op of r.operations) process.stdout.write(`${op.method} ${op.id}\n`);
  });

program
  .command('health')
  .description('ask a running Keyless what it serves and enforces')
  .addOption(dataDirOption())
  .action(async (o) => {
    const conn = Connection.open(o.dataDir);
    const r = await requestJson('GET', `${conn.runtime.endpoints.resourceManager}/health`, { ca: conn.ca });
    process.stdout.write(JSON.stringify(r.body, null, 2) + '\n');
  });

const access = program.command('access').description('who can do what: check a principal’s access with the engine’s explanation');
access
  .command('check')
  .description('explain whether a principal may perform an action at a scope (before you deploy anything)')
  .requiredOption('--principal <objectId>', 'principal (object) id')
  .requiredOption('--action <action>', "action string, e.g. 'Microsoft.KeyVault/vaults/secrets/getSecret/action'")
  .requiredOption('--scope <scope>', 'scope: /subscriptions/…[/resourceGroups/…[/providers/…]]')
  .option('--data', 'the action is a data action (dataActions); inferred for known data actions when omitted')
  .option('--json', 'print the structured explanation')
  .addOption(dataDirOption())
  .action(async (o) => {
    const conn = Connection.open(o.dataDir);
    const isData = o.data ?? (await isKnownDataAction(o.action));
    const q = new URLSearchParams({ principal: o.principal, action: o.action, scope: o.scope, data: String(isData) });
    const r = await conn.arm('GET', `/keyless/v1/access/check?${q}`);
    process.stdout.write(o.json ? JSON.stringify(r, null, 2) + '\n' : r.text + '\n');
    process.exitCode = r.allowed ? 0 : 1;
  });

// Audit trail (src/audit): access review and `keyless logs`.
access
  .command('review')
  .description('what each identity was granted vs. what it used, with least-privilege suggestions')
  .option('--principal <id>', 'one identity (object id or client id); default: every managed identity and application')
  .option('--since <when>', 'window start: a duration back (30d, 12h) or an ISO time', '30d')
  .option('--json', 'print the structured review')
  .addOption(dataDirOption())
  .action(async (o) => {
    const { runAccessReview } = await import('./access-review.js');
    await runAccessReview(Connection.open(o.dataDir), { principal: o.principal, since: o.since, json: o.json }, (t) => process.stdout.write(t + '\n'));
  });

program
  .command('logs')
  .description('the audit trail: sign-ins, ARM activity and data-plane access, one line per event')
  .addOption(new Option('--category <category>', 'only one category').choices(['signin', 'activity', 'data']))
  .option('--principal <id>', 'principal (object) id or client id')
  .option('--resource-group <group>', 'events in one resource group')
  .option('--resource <id>', 'events at a resource id or below it')
  .option('--since <when>', 'a duration back (1h, 30m, 7d) or an ISO time', '24h')
  .option('--until <when>', 'a duration back or an ISO time')
  .addOption(new Option('--status <status>', 'failed includes denied').choices(['succeeded', 'failed', 'denied']))
  .option('--json', 'one JSON object per line')
  .option('-f, --follow', 'keep printing new events until Ctrl-C')
  .addOption(new Option('--interval <ms>', 'poll interval for --follow').default('1000').hideHelp())
  .addOption(dataDirOption())
  .action(async (o) => {
    const { runLogs } = await import('./logs.js');
    await runLogs(
      Connection.open(o.dataDir),
      { category: o.category, principal: o.principal, resourceGroup: o.resourceGroup, resource: o.resource, since: o.since, until: o.until, status: o.status, json: o.json, follow: o.follow, interval: Number(o.interval) },
      (line) => process.stdout.write(line + '\n'),
    );
  });

async function isKnownDataAction(action: string): Promise<boolean> {
  const { isDataActionName } = await import('../authz/provider-operations.js');
  return isDataActionName(action);
}

program
  .command('hosts')
  .description('write (or print, or remove) /etc/hosts entries for existing vaults and storage accounts, where *.localhost does not resolve natively')
  .option('--print', 'print the block instead of writing it')
  .option('--remove', 'remove the Keyless block')
  .option('--file <file>', 'hosts file to edit', '/etc/hosts')
  .addOption(dataDirOption())
  .action(async (o) => {
    const { replaceHostsBlock, hostsBlock, keylessNamesOf, writeHostsFile } = await import('./hosts.js');
    const names = o.remove ? [] : await keylessNamesOf(Connection.open(o.dataDir));
    if (o.print) {
      process.stdout.write(hostsBlock(names));
      return;
    }
    const current = fs.existsSync(o.file) ? fs.readFileSync(o.file, 'utf8') : '';
    try {
      writeHostsFile(o.file, replaceHostsBlock(current, names));
    } catch (e) {
      throw new CliError(`cannot write ${o.file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); run as root, or use --print`);
    }
    process.stdout.write(o.remove ? `removed the Keyless block from ${o.file}\n` : `wrote ${names.length} names to ${o.file}\n`);
  });

function shellQuote(v: string): string {
  return /^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

// Fault injection (src/cli/fault.ts, docs/fault-injection.md).
registerFaultCommand(program, dataDirOption);
// Deny assignments (src/cli/deny.ts, docs/deviations/authz.md).
registerDenyCommand(program, dataDirOption);

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof CliError || e instanceof ConfigError || e instanceof SpecError) {
    process.stderr.write(`keyless: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`keyless: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
