#!/usr/bin/env node
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { Command, Option } from 'commander';
import { ConfigError, resolveConfig } from '../server/config.js';
import { applyEnvironment, parseEnvironment, SpecError } from '../seed/index.js';
import { CliError, Connection, runtimeFile } from './connection.js';
import { requestJson } from './http.js';
import { resolveVm, vmEnvironment } from './vm.js';

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
  .option('--host <address>', 'address the HTTPS listener binds')
  .option('--port <port>', 'HTTPS port (ARM, login, Key Vault, Blob, portal); 0 = ephemeral')
  .option('--imds-port <port>', "port of every VM's IMDS listener; 0 = ephemeral")
  .option('--public-host <name>', 'host name used in the URLs Keyless hands out')
  .option('--dns-suffix <suffix>', 'suffix for <vault>.vault.<suffix>, <account>.blob.<suffix>, management.<suffix>')
  .addOption(new Option('--authz <mode>', 'authorization mode').choices(['enforce', 'audit', 'off']))
  .option('--token-lifetime <seconds>', 'managed-identity token lifetime')
  .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
  .option('--seed <file>', 'apply a declarative environment (YAML) once started')
  .option('--json', 'print one JSON line when ready instead of the banner (for scripts and CI)')
  .action(async (o) => {
    const config = resolveConfig({
      configFile: o.config,
      flags: {
        dataDir: o.dataDir,
        databaseUrl: o.databaseUrl,
        memory: o.memory,
        tlsDir: o.tlsDir,
        host: o.host,
        port: o.port,
        imdsPort: o.imdsPort,
        publicHost: o.publicHost,
        dnsSuffix: o.dnsSuffix,
        authzMode: o.authz,
        tokenLifetimeSec: o.tokenLifetime,
        logLevel: o.logLevel ?? (o.json ? 'warn' : undefined),
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
    const shutdown = async () => {
      await server.stop();
      fs.rmSync(runtimeFile(config.dataDir), { force: true });
      process.exit(0);
    };
    process.once('SIGINT', () => void shutdown());
    process.once('SIGTERM', () => void shutdown());
  });

program
  .command('run')
  .description('run a command as a VM: its managed identities answer ManagedIdentityCredential / DefaultAzureCredential')
  .requiredOption('--vm <name>', 'VM name or resource id')
  .option('-g, --group <resourceGroup>', 'resource group of the VM (when the name is ambiguous)')
  .addOption(dataDirOption())
  .option('--explain', 'print which identity source each client will pick (to stderr)')
  .argument('<command...>', 'the command to run, after --')
  .action(async (command: string[], o) => {
    const conn = Connection.open(o.dataDir);
    const vmId = await resolveVm(conn, o.vm, o.group);
    const env = await vmEnvironment(conn, vmId);
    if (o.explain) {
      process.stderr.write(
        `keyless: running as ${vmId}\n` +
          `  @azure/identity (JS) and azure-identity (Python): IMDS at ${env['AZURE_POD_IDENTITY_AUTHORITY_HOST']} (AZURE_POD_IDENTITY_AUTHORITY_HOST)\n` +
          `  TLS trust: NODE_EXTRA_CA_CERTS=${env['NODE_EXTRA_CA_CERTS']}, REQUESTS_CA_BUNDLE=${env['REQUESTS_CA_BUNDLE']}\n`,
      );
    }
    const [cmd, ...args] = command;
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

program
  .command('env')
  .description("print the environment 'keyless run' sets for a VM, as shell exports (eval \"$(keyless env --vm vm1)\")")
  .requiredOption('--vm <name>', 'VM name or resource id')
  .option('-g, --group <resourceGroup>', 'resource group of the VM')
  .addOption(new Option('--format <format>', 'output format').choices(['sh', 'json']).default('sh'))
  .addOption(dataDirOption())
  .action(async (o) => {
    const conn = Connection.open(o.dataDir);
    const env = await vmEnvironment(conn, await resolveVm(conn, o.vm, o.group));
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

function shellQuote(v: string): string {
  return /^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof CliError || e instanceof ConfigError || e instanceof SpecError) {
    process.stderr.write(`keyless: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`keyless: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
