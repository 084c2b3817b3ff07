/**
 * The audit trail's model: what the surfaces hand in (inputs) and what queries hand out (AuditEvent).
 * Inputs are structurally the events the surfaces already emit (SignInService's SignInEvent, the data planes'
 * DataAccessEvent, ARM's activity hook), so the server can pass them straight through without this module
 * importing any surface.
 */

import type { ActivityEvent } from '../core/activity-event.js';
import type { DataAccessEvent } from '../core/data-access.js';
import type { SignInEvent } from '../core/signin-event.js';

export type AuditCategory = 'signin' | 'activity' | 'data';
export const AUDIT_CATEGORIES: readonly AuditCategory[] = ['signin', 'activity', 'data'];

/** succeeded: done; failed: refused or broke (denials included when filtering by `failed`); denied: RBAC / policy said no. */
export type AuditResult = 'succeeded' | 'failed' | 'denied';

/** One token request (SignInService.onSignIn). */
export type SignInInput = SignInEvent;

/** One ARM request worth recording (ArmDeps.onActivity). */
export type ActivityInput = ActivityEvent;

/** One data-plane authorization decision (PluginContext.recordDataAccess). */
export type DataAccessInput = Omit<DataAccessEvent, 'surface'> & { surface: string };

/** A stored event, as queries return it. `details` is category-specific (see recorder.ts). */
export interface AuditEvent {
  seq: number;
  id: string;
  /** epoch ms */
  at: number;
  category: AuditCategory;
  result: AuditResult;
  httpStatus: number | undefined;
  principalId: string | undefined;
  appId: string | undefined;
  operation: string;
  scope: string | undefined;
  subscriptionId: string | undefined;
  resourceGroup: string | undefined;
  correlationId: string | undefined;
  /** How many identical events this one stands for: granted data-plane repeats within one write batch (~100 ms), the last at `details.lastAt`. */
  count: number;
  details: Record<string, unknown>;
}

export interface AuditQuery {
  /** epoch ms, inclusive */
  since?: number | undefined;
  /** epoch ms, inclusive */
  until?: number | undefined;
  categories?: readonly AuditCategory[] | undefined;
  /** Matches the principal (object) id or the app (client) id. */
  principal?: string | undefined;
  resourceGroup?: string | undefined;
  subscriptionId?: string | undefined;
  /** Events at this scope or below it. */
  resourcePrefix?: string | undefined;
  /** Events at exactly this scope. */
  resourceId?: string | undefined;
  correlationId?: string | undefined;
  /** `failed` includes denials. */
  status?: 'succeeded' | 'failed' | 'denied' | undefined;
  /** Cursor: events with seq > after (ascending) or seq < before (descending). */
  after?: number | undefined;
  before?: number | undefined;
  order?: 'asc' | 'desc' | undefined;
  /** Page size (default 100, at most 1000). */
  limit?: number | undefined;
}

export interface AuditPage {
  events: AuditEvent[];
  /** Pass as `after` (asc) or `before` (desc) to continue; present when more may follow. */
  next: number | undefined;
}

/** Aggregated, authorized usage per (principal, action, scope) — the access review's input. */
export interface UsageRow {
  principalId: string;
  category: 'activity' | 'data';
  operation: string;
  scope: string;
  result: AuditResult;
  httpStatus: number | undefined;
  count: number;
  lastAt: number;
}
