import { spawn } from 'node:child_process';
import dns from 'node:dns/promises';
import os from 'node:os';
import { keylessHostNames } from './hosts.js';
import { createSession, type IsolatedSession } from './namespace.js';
import { sweepStale } from './cleanup.js';
import { serverIdFor } from './names.js';
import { requireIsolation } from './system.js';

/** What the CLI knows about the running server (runtime.json) — enough to wire a namespace to it. */
export interface IsolationRuntime {
  pid: number;
  tenantId: string;
  dnsSuffix: string;
  caFile: string;
  caBundleFile: string;
  endpoints: { resourceManager: string };
}

export interface IsolatedRunInput {
  runtime: IsolationRuntime;
  vmName: string;
  /** What `keyless env --vm` returns: the IMDS listener and the URLs of vaults and accounts. */
  vmEnvironment: Record<string, string>;
  argv: string[];
  explain?: boolean;
}

/**
 * Variables that would send an SDK or az somewhere other than 169.254.169.254, or use a credential other than
 * the VM's. A real VM has none of them; inside the namespace they could only break the story silently.
 * (A command that wants one sets it itself: `keyless run --isolated --vm vm1 -- env AZURE_CLIENT_ID=… app`.)
 */
export const STRIPPED_VARIABLES = [
  'AZURE_POD_IDENTITY_AUTHORITY_HOST',
  'IDENTITY_ENDPOINT',
  'IDENTITY_HEADER',
  'IDENTITY_SERVER_THUMBPRINT',
  'IMDS_ENDPOINT',
  'MSI_ENDPOINT',
  'MSI_SECRET',
  'APPSETTING_WEBSITE_SITE_NAME',
  'AZURE_CLIENT_ID',
  'AZURE_CLIENT_SECRET',
  'AZURE_CLIENT_CERTIFICATE_PATH',
  'AZURE_CLIENT_CERTIFICATE_PASSWORD',
  'AZURE_TENANT_ID',
  'AZURE_FEDERATED_TOKEN_FILE',
  'AZURE_AUTHORITY_HOST',
  'AZURE_USERNAME',
  'AZURE_PASSWORD',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'ALL_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'all_proxy',
  'no_proxy',
];

/** The child's environment: the caller's minus the redirections, plus CA trust and Keyless's informational names. */
export function isolatedEnvironment(base: NodeJS.ProcessEnv, vmEnv: Record<string, string>, rt: IsolationRuntime, vmName: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && !STRIPPED_VARIABLES.includes(k)) out[k] = v;
  for (const [k, v] of Object.entries(vmEnv)) if (k.startsWith('KEYLESS_')) out[k] = v;
  // CA trust only: Node adds the CA; az, Python (requests), curl and OpenSSL tools take the bundle (system CAs + Keyless's).
  out['NODE_EXTRA_CA_CERTS'] = rt.caFile;
  out['REQUESTS_CA_BUNDLE'] = rt.caBundleFile;
  out['CURL_CA_BUNDLE'] = rt.caBundleFile;
  out['SSL_CERT_FILE'] = rt.caBundleFile;
  out['KEYLESS_ISOLATED_VM'] = vmName;
  return out;
}

/** The VM's IMDS listener (`http://127.77.x.y:port`) from the VM environment. */
export function imdsListenerOf(vmEnv: Record<string, string>): { address: string; port: number } {
  const raw = vmEnv['AZURE_POD_IDENTITY_AUTHORITY_HOST'];
  if (!raw) throw new Error('Keyless returned no IMDS listener for this VM');
  const u = new URL(raw);
  return { address: u.hostname, port: Number(u.port || 80) };
}

/** Where the host reaches Keyless's HTTPS listener: the advertised host, resolved to IPv4 (DNAT is IPv4 only). */
async function keylessListener(rt: IsolationRuntime): Promise<{ address: string; port: number }> {
  const u = new URL(rt.endpoints.resourceManager);
  const port = Number(u.port || 443);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return { address: host, port };
  const { address } = await dns.lookup(host, { family: 4 });
  return { address, port };
}

/**
 * Runs argv as the VM inside a fresh namespace and returns its exit code. Signals go to the child; the
 * namespace, link, rules and files are removed when it exits, on SIGINT/SIGTERM/SIGHUP, and — synchronously —
 * if this process exits any other way. Stale sessions (dead CLI or restarted server) are swept before and after.
 */
export async function runIsolated(input: IsolatedRunInput): Promise<number> {
  requireIsolation();
  const rt = input.runtime;
  const serverId = serverIdFor(rt.tenantId);
  await sweepStale({ serverId, serverPid: rt.pid }).catch(() => undefined);

  const imds = imdsListenerOf(input.vmEnvironment);
  const keyless = await keylessListener(rt);
  const hostNames = keylessHostNames({ dnsSuffix: rt.dnsSuffix, publicHost: new URL(rt.endpoints.resourceManager).hostname, urls: Object.values(input.vmEnvironment) });

  let session: IsolatedSession | undefined;
  let child: ReturnType<typeof spawn> | undefined;
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (child) child.kill(sig);
    else interrupted ??= sig;
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  const lastChance = () => session?.disposeSync();
  process.on('exit', lastChance);
  try {
    session = await createSession({
      tenantId: rt.tenantId,
      serverPid: rt.pid,
      vmName: input.vmName,
      imds,
      keyless,
      hostNames,
      localNames: [os.hostname()],
    });
    if (interrupted) return 128 + (os.constants.signals[interrupted] ?? 1);
    if (input.explain) {
      process.stderr.write(
        `keyless: isolated VM '${input.vmName}' in network namespace ${session.names.netns}\n` +
          `  169.254.169.254:80 -> its IMDS listener ${imds.address}:${imds.port} (via ${session.names.vethHost} ${session.link.host})\n` +
          `  Keyless names (${hostNames.length}) -> ${session.link.host}:${keyless.port} -> ${keyless.address}:${keyless.port}; localhost:${keyless.port} is redirected too\n` +
          `  nothing else is reachable; no identity variables are set, only CA trust (NODE_EXTRA_CA_CERTS, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, SSL_CERT_FILE)\n`,
      );
    }
    const { cmd, args } = session.command(input.argv);
    const env = isolatedEnvironment(process.env, input.vmEnvironment, rt, input.vmName);
    const code = await new Promise<number>((resolve) => {
      child = spawn(cmd, args, { stdio: 'inherit', env });
      child.on('error', (e) => {
        process.stderr.write(`keyless: cannot run ${input.argv[0]}: ${e.message}\n`);
        resolve(127);
      });
      // A child killed by a signal exits the way a shell reports it: 128 + the signal number.
      child.on('exit', (c, sig) => resolve(c ?? (sig ? 128 + (os.constants.signals[sig] ?? 1) : 1)));
    });
    return code;
  } finally {
    const errors = session ? await session.dispose() : [];
    for (const e of errors) process.stderr.write(`keyless: cleanup: ${e}\n`);
    await sweepStale({ serverId, serverPid: rt.pid }).catch(() => undefined);
    for (const s of signals) process.off(s, onSignal);
    process.off('exit', lastChance);
  }
}
