import { Option, type Command } from 'commander';
import { explainClients, renderChoices } from '../msi/client-selection.js';
import { VM_IDENTITY_SOURCES } from '../msi/environments.js';
import { CliError, type Connection } from './connection.js';

const WEB_API = 'api-version=2023-12-01';

/** `--app`, `--az` and `--identity-source` for `keyless run` and `keyless env` (docs/identity-endpoints.md). */
export function addIdentityOptions(cmd: Command): Command {
  return cmd
    .option('--app <name>', 'web app (Microsoft.Web/sites) name or resource id: set the App Service variables')
    .option('--az', "with --vm: also make 'az login --identity' work (MSI_ENDPOINT); the SDKs then use App Service variables")
    .addOption(new Option('--identity-source <source>', 'with --vm: the protocol the SDKs are steered to (default imds; app-service with --az)').choices([...VM_IDENTITY_SOURCES]));
}

/** True when the VM/app environment must come from the identity-environment route rather than the plain VM one. */
export function wantsIdentityRoute(o: { app?: string; az?: boolean; identitySource?: string }): boolean {
  return Boolean(o.app || o.az || o.identitySource);
}

export async function resolveApp(conn: Connection, app: string, group?: string): Promise<string> {
  if (app.startsWith('/subscriptions/')) return app;
  const sub = conn.runtime.subscriptionId;
  if (group) {
    const r = await conn.arm('GET', `/subscriptions/${sub}/resourceGroups/${encodeURIComponent(group)}/providers/Microsoft.Web/sites/${encodeURIComponent(app)}?${WEB_API}`);
    return r.id as string;
  }
  const list = await conn.arm('GET', `/subscriptions/${sub}/providers/Microsoft.Web/sites?${WEB_API}`);
  const matches = (list.value as { id: string; name: string }[]).filter((s) => s.name.toLowerCase() === app.toLowerCase());
  if (matches.length === 0) throw new CliError(`no web app named '${app}' in subscription ${sub}`);
  return matches[0]!.id;
}

export async function identityEnvironment(conn: Connection, id: string, o: { az?: boolean; identitySource?: string }): Promise<Record<string, string>> {
  const q = new URLSearchParams({ id });
  if (o.identitySource) q.set('source', o.identitySource);
  if (o.az) q.set('az', 'true');
  const r = await conn.arm('GET', `/keyless/v1/identity-environment?${q}`);
  return r.environment as Record<string, string>;
}

/** What `--explain` prints: per client, the source it will pick in the child's environment and why. */
export function explainRun(id: string, env: Record<string, string>, inherited: NodeJS.ProcessEnv = process.env): string {
  return `keyless: running as ${id}\n${renderChoices(explainClients({ ...inherited, ...env }))}\n  TLS trust: NODE_EXTRA_CA_CERTS=${env['NODE_EXTRA_CA_CERTS']}, REQUESTS_CA_BUNDLE=${env['REQUESTS_CA_BUNDLE']}\n`;
}
