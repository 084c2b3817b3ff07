import { CliError, type Connection } from './connection.js';

const API = 'api-version=2024-07-01';

/** `--vm vm1 [-g group]` or a full resource id → the VM's resource id. */
export async function resolveVm(conn: Connection, vm: string, group?: string): Promise<string> {
  if (vm.startsWith('/subscriptions/')) return vm;
  const sub = conn.runtime.subscriptionId;
  if (group) {
    const r = await conn.arm('GET', `/subscriptions/${sub}/resourceGroups/${encodeURIComponent(group)}/providers/Microsoft.Compute/virtualMachines/${encodeURIComponent(vm)}?${API}`);
    return r.id as string;
  }
  const list = await conn.arm('GET', `/subscriptions/${sub}/providers/Microsoft.Compute/virtualMachines?${API}`);
  const matches = (list.value as { id: string; name: string }[]).filter((v) => v.name.toLowerCase() === vm.toLowerCase());
  if (matches.length === 0) throw new CliError(`no virtual machine named '${vm}' in subscription ${sub}`);
  if (matches.length > 1) throw new CliError(`'${vm}' names ${matches.length} virtual machines; pass --group (${matches.map((m) => m.id.split('/')[4]).join(', ')})`);
  return matches[0]!.id;
}

export async function vmEnvironment(conn: Connection, vmId: string): Promise<Record<string, string>> {
  const r = await conn.arm('GET', `/keyless/v1/vm-environment?id=${encodeURIComponent(vmId)}`);
  return r.environment as Record<string, string>;
}
