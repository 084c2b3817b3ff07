/** One data-plane authorization decision, as surfaces report it and the audit trail stores it. */
export interface DataAccessEvent {
  surface: 'keyvault' | 'blob';
  principalId: string | undefined;
  appId: string | undefined;
  via: string;
  action: string;
  scope: string;
  allowed: boolean;
  status: number;
  summary?: string;
  explanation?: unknown;
  /** Allowed only because authorization runs in audit mode: enforce mode would have refused it. */
  auditOnly?: boolean;
}
