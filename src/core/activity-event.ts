import type { Caller } from './caller.js';

/**
 * One ARM request worth recording — a mutation (any outcome) or an authorization denial — as the ARM
 * pipeline reports it and the audit trail stores it.
 */
export interface ActivityEvent {
  at: number;
  caller: Pick<Caller, 'objectId' | 'appId' | 'clientName'> & { claims?: Record<string, unknown> | undefined };
  /** ARM action string, e.g. Microsoft.Compute/virtualMachines/write. */
  operation: string;
  /** The resource the request addressed. */
  resourceId: string;
  /** Where the action is authorized (an extension resource's parent scope). */
  scope: string;
  subscriptionId: string | undefined;
  resourceGroup: string | undefined;
  method: string;
  status: number;
  correlationId: string;
  requestId: string;
  clientRequestId?: string | undefined;
  clientIp?: string | undefined;
  /** The error the caller saw, when the request failed. */
  error?: { code: string; message: string } | undefined;
  /**
   * Set when the authorization engine refused: its one-line summary and full explanation. `auditOnly`: it would
   * have refused, but `--authz audit` let the request through (the first such check of the request).
   */
  denial?: { summary: string; explanation: unknown; auditOnly?: boolean } | undefined;
}
