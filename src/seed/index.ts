export { parseEnvironment, SpecError, type EnvironmentSpec } from './spec.js';
export { applyEnvironment, type ArmClient, type ApplyResult } from './apply.js';
