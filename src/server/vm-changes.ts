/**
 * Which changes can bind or unbind a VM's IMDS listener. Every resource write used to list every VM (the ARM
 * mutation hook and the change feed each, ~5,500 listings a minute in the soak's identity PUTs, bench/NOTES.md
 * "Ninth round"); only a VM's own change, or a group's or subscription's (whose deletion takes VMs with it), can.
 */
const VM_PART = '/providers/microsoft.compute/virtualmachines/';

/** A resource key (the lower-cased id) of a VM or of a VM's child. A deletion publishes each deleted key. */
export function isVmKey(key: string): boolean {
  return key.includes(VM_PART);
}

/** Whether an ARM mutation at `path` (query and all) can create or delete a VM. */
export function mayChangeVms(path: string): boolean {
  const p = path.split('?')[0]!.toLowerCase();
  return !p.includes('/providers/') || p.includes(VM_PART);
}
