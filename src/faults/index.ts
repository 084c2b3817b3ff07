export { FaultRegistry, FAULT_SURFACES, DEFAULT_FAULT_LIFETIME_MS, resourceNames, type Fault, type FaultInput, type FaultSurface, type FaultView } from './registry.js';
export { withFaults, type GuardOptions } from './guard.js';
export { faultsOpsRoute, faultInput, FAULT_READ_ACTION, FAULT_WRITE_ACTION } from './ops-route.js';
export { parseFaultDuration, formatDuration } from './duration.js';
export { dataPlaneNames } from './targets.js';
