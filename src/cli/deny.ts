import { type Command, Option } from 'commander';
import { CliError, Connection } from './connection.js';

const BASE = '/keyless/v1/deny-assignments';

interface WireDeny {
  id: string;
  name: string;
  properties: {
    denyAssignmentName: string;
    description: string;
    permissions: { actions: string[]; notActions: string[]; dataActions: string[]; notDataActions: string[] }[];
    scope: string;
    doNotApplyToChildScopes: boolean;
    principals: { id: string; type: string }[];
    excludePrincipals: { id: string; type: string }[];
  };
}

const list = (v: string, prev: string[] = []): string[] => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

/**
 * `keyless deny create|list|delete`: deny assignments through the ops API (/keyless/v1/deny-assignments), the
 * admin path Azure keeps to its own services; ARM only reads them.
 */
export function registerDenyCommand(program: Command, dataDirOption: () => Option): void {
  const deny = program
    .command('deny')
    .description('deny assignments: block actions even where a role assignment grants them (ARM lists them read-only)')
    .addHelpText('after', "\nExamples:\n  keyless deny create --scope /subscriptions/<sub>/resourceGroups/app-rg --action 'Microsoft.Compute/virtualMachines/delete' --everyone --exclude <admin-oid>\n  keyless deny list\n  keyless deny delete <name>\n");

  deny
    .command('create')
    .description('create a deny assignment (Owner or User Access Administrator at its scope)')
    .requiredOption('--scope <scope>', 'where it applies: /subscriptions/…[/resourceGroups/…[/providers/…]]')
    .option('--action <action>', 'action to deny (repeat, or comma-separated; wildcards as in roles)', list)
    .option('--not-action <action>', 'action excluded from --action', list)
    .option('--data-action <action>', 'data action to deny', list)
    .option('--not-data-action <action>', 'data action excluded from --data-action', list)
    .option('--principal <objectId>', 'principal to deny (repeat, or comma-separated)', list)
    .addOption(new Option('--principal-type <type>', 'type of the --principal ids').choices(['User', 'Group', 'ServicePrincipal']).default('ServicePrincipal'))
    .option('--everyone', 'deny all principals (00000000-0000-0000-0000-000000000000), usually with --exclude')
    .option('--exclude <objectId>', 'principal left out of the deny (repeat, or comma-separated)', list)
    .option('--no-children', 'apply at the scope only, not below it (doNotApplyToChildScopes)')
    .option('--name <guid>', 'its name (a GUID); generated when omitted')
    .option('--display-name <text>', "its display name, which Azure's error quotes")
    .option('--description <text>', 'a description')
    .option('--json', 'print it as JSON')
    .addOption(dataDirOption())
    .action(async (o) => {
      if (!o.everyone && !o.principal) throw new CliError('pass --principal <objectId> or --everyone');
      if (!o.action && !o.dataAction) throw new CliError('pass at least one --action or --data-action to deny');
      const principals = [...(o.everyone ? ['everyone'] : []), ...((o.principal as string[] | undefined) ?? []).map((id) => ({ id, type: o.principalType as string }))];
      const body = {
        scope: o.scope,
        ...(o.name ? { name: o.name } : {}),
        ...(o.displayName ? { denyAssignmentName: o.displayName } : {}),
        ...(o.description ? { description: o.description } : {}),
        actions: o.action ?? [],
        notActions: o.notAction ?? [],
        dataActions: o.dataAction ?? [],
        notDataActions: o.notDataAction ?? [],
        principals,
        excludePrincipals: o.exclude ?? [],
        doNotApplyToChildScopes: o.children === false,
      };
      const d = (await Connection.open(o.dataDir).arm('POST', BASE, body)) as WireDeny;
      process.stdout.write(o.json ? JSON.stringify(d, null, 2) + '\n' : `created ${describeDeny(d)}\n`);
    });

  deny
    .command('list')
    .description('deny assignments at, above or below a scope (default: the subscription)')
    .option('--scope <scope>', 'scope to list at')
    .option('--json', 'print JSON')
    .addOption(dataDirOption())
    .action(async (o) => {
      const q = o.scope ? `?${new URLSearchParams({ scope: o.scope })}` : '';
      const r = (await Connection.open(o.dataDir).arm('GET', `${BASE}${q}`)) as { value: WireDeny[] };
      if (o.json) return void process.stdout.write(JSON.stringify(r.value, null, 2) + '\n');
      if (r.value.length === 0) return void process.stdout.write('no deny assignments\n');
      for (const d of r.value) process.stdout.write(describeDeny(d) + '\n');
    });

  deny
    .command('delete')
    .description('delete a deny assignment by name (GUID)')
    .argument('<name>', 'its name, as `keyless deny list` shows it')
    .addOption(dataDirOption())
    .action(async (name: string, o) => {
      const d = (await Connection.open(o.dataDir).arm('DELETE', `${BASE}/${encodeURIComponent(name)}`)) as WireDeny;
      process.stdout.write(`deleted ${d.name}\n`);
    });
}

/** One line: `<name>  '<display name>' at <scope>  denies a, b  to everyone except x`. */
export function describeDeny(d: WireDeny): string {
  const p = d.properties;
  const denied = p.permissions.flatMap((b) => [...b.actions, ...b.dataActions.map((a) => `${a} (data)`)]);
  const except = p.permissions.flatMap((b) => [...b.notActions, ...b.notDataActions]);
  const who = p.principals.map((x) => (x.type === 'SystemDefined' ? 'everyone' : x.id)).join(', ');
  const excluded = p.excludePrincipals.length > 0 ? ` except ${p.excludePrincipals.map((x) => x.id).join(', ')}` : '';
  return [
    d.name,
    `'${p.denyAssignmentName}' at ${p.scope}${p.doNotApplyToChildScopes ? ' (this scope only)' : ''}`,
    `denies ${denied.join(', ')}${except.length > 0 ? ` but not ${except.join(', ')}` : ''}`,
    `to ${who}${excluded}`,
  ].join('  ');
}
