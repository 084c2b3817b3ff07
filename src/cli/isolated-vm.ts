import { CliError, type Connection } from './connection.js';
import { vmEnvironment } from './vm.js';
import { IsolationUnavailableError, isolationUnavailableReason, runIsolated, sweepStale } from '../isolation/index.js';

/** `keyless run --isolated --vm NAME -- CMD` and `keyless vm shell NAME`: the command's exit code. */
export async function runIsolatedVm(conn: Connection, vmId: string, argv: string[], opts: { explain?: boolean; env?: Record<string, string> } = {}): Promise<number> {
  const reason = isolationUnavailableReason();
  if (reason) throw new CliError(reason);
  const env = opts.env ?? (await vmEnvironment(conn, vmId));
  try {
    return await runIsolated({
      runtime: conn.runtime,
      vmName: vmId.split('/').pop() ?? vmId,
      vmEnvironment: env,
      argv,
      explain: Boolean(opts.explain),
    });
  } catch (e) {
    if (e instanceof IsolationUnavailableError) throw new CliError(e.message);
    throw e;
  }
}

/** The user's shell, interactive, as the VM. */
export function shellArgv(): string[] {
  const shell = process.env['SHELL'] && process.env['SHELL'] !== '' ? process.env['SHELL'] : '/bin/bash';
  return [shell, '-i'];
}

/** `keyless vm cleanup`: removes stale isolated-VM sessions (or, with --all, every one) left on this machine. */
export async function cleanupIsolatedVms(all: boolean): Promise<{ removed: string[]; errors: string[] }> {
  const reason = isolationUnavailableReason();
  if (reason) throw new CliError(reason);
  return sweepStale({ all });
}
