import fs from 'node:fs';
import { createPrivateHosts, keylessAddress, privateHostsCaveat, privateHostsUnavailableReason, type PrivateHosts } from '../isolation/index.js';
import { CliError, type Connection } from './connection.js';
import { keylessNamesOf } from './hosts.js';

/** Checked before anything else in `keyless run`, so a refusal costs no ARM call and starts nothing. */
export function requirePrivateHosts(): void {
  const reason = privateHostsUnavailableReason();
  if (reason) throw new CliError(reason);
}

/**
 * The private /etc/hosts for one `keyless run`: the names `keyless hosts --print` gives, mapped to where
 * Keyless listens. The file is removed when this process exits (the run action always ends in process.exit);
 * a SIGKILLed CLI's copy is swept by the next run.
 */
export async function startPrivateHosts(conn: Connection, opts: { explain?: boolean } = {}): Promise<PrivateHosts> {
  const rt = conn.runtime;
  const names = await keylessNamesOf(conn);
  let address: string;
  try {
    address = await keylessAddress(rt.endpoints.resourceManager, rt.dnsSuffix);
  } catch (e) {
    throw new CliError(`--private-hosts: cannot find the address of ${new URL(rt.endpoints.resourceManager).hostname} (${(e as Error).message})`);
  }
  const hosts = createPrivateHosts({ names, address });
  process.once('exit', () => hosts.remove());
  const caveat = privateHostsCaveat(readOr('/etc/nsswitch.conf'));
  if (caveat) process.stderr.write(`keyless: warning: ${caveat}\n`);
  if (opts.explain) {
    process.stderr.write(`keyless: private /etc/hosts in a mount namespace: ${names.length} Keyless names -> ${address} (${names.filter((n) => /\.(vault|blob)\./.test(n)).join(', ') || 'no vaults or storage accounts yet'})\n`);
  }
  return hosts;
}

function readOr(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
