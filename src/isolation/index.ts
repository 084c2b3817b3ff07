/**
 * Isolated VMs: run a command in a network namespace where 169.254.169.254 is one VM's IMDS and Keyless is
 * the only other thing reachable, so unmodified tools (az, curl, the SDKs with no environment) act as the VM.
 * Private hosts files: a mount namespace where /etc/hosts also names Keyless's hosts, for `keyless run`.
 */
export { blockAddresses, pickBlock, type LinkAddresses } from './addresses.js';
export { isStale, removeSession, sweepOnServerStart, sweepStale, type SweepResult } from './cleanup.js';
export { hostsBlock, hostsFile, keylessHostNames, replaceHostsBlock, resolvConf } from './hosts.js';
export { imdsListenerOf, isolatedEnvironment, runIsolated, STRIPPED_VARIABLES, type IsolatedRunInput, type IsolationRuntime } from './launch.js';
export { serverIdFor, sessionNames, type SessionNames } from './names.js';
export { createSession, type IsolatedSession, type IsolationTarget } from './namespace.js';
export {
  createPrivateHosts,
  keylessAddress,
  privateHostsCaveat,
  privateHostsRefusal,
  privateHostsUnavailableReason,
  sweepPrivateHosts,
  type PrivateHosts,
  type PrivateHostsFacts,
} from './private-hosts.js';
export { hostRuleset, namespaceRuleset } from './rules.js';
export { IsolationUnavailableError, isolationUnavailableReason, requireIsolation } from './system.js';
