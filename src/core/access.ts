/**
 * The contract between surfaces and the authorization engine. Surfaces ask one question — may this
 * principal perform this action at this scope — and get an answer that can explain itself.
 */
export type AuthzMode = 'enforce' | 'audit' | 'off';

export interface AccessCheck {
  principalId: string;
  groupIds?: string[];
  action: string;
  isDataAction: boolean;
  scope: string;
  /** ABAC attributes (@Resource, @Request …) for data actions and delegated role assignment. */
  attributes?: {
    subOperation?: string;
    request?: Record<string, unknown>;
    resource?: Record<string, unknown>;
    environment?: Record<string, unknown>;
  };
}

export interface AccessResult {
  /** What the engine decided, before the mode is applied. */
  granted: boolean;
  /** What the surface must do: in audit/off mode a denial is allowed through. */
  allowed: boolean;
  mode: AuthzMode;
  /** True when a condition decided (changes Azure's AuthorizationFailed wording). */
  conditionInvolved: boolean;
  /** One line, safe to return to clients: no secrets, names the nearest role that would grant. */
  summary: string;
  /** Structured explanation for audit and `keyless access check`. */
  explanation: unknown;
}

/**
 * Allowed only because authorization runs in audit mode: enforce mode would have refused it. Reads `mode` before
 * `granted`, so a request allowed in enforce mode never asks the engine's verdict twice.
 */
export function isAuditOnly(r: AccessResult): boolean {
  return r.allowed && r.mode === 'audit' && !r.granted;
}

export interface AccessControl {
  readonly mode: AuthzMode;
  check(req: AccessCheck): AccessResult;
  /** Subscriptions where the principal holds any assignment at or below (ARM's subscription list). */
  visibleSubscriptions(principalId: string): Set<string> | 'all';
}
