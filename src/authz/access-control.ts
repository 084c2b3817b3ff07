/**
 * The engine behind core/access.ts's AccessControl: the one question surfaces ask, with the enforcement mode
 * applied. `audit` decides and logs but lets denials through; `off` skips the decision entirely (the explanation,
 * computed only if read, still says what RBAC would have done).
 */
import type { AccessCheck, AccessControl, AccessResult, AuthzMode } from '../core/access.js';
import { authzOffDecision } from './decide.js';
import { allowedSummary, summarizeExplanation } from './explain.js';
import type { AuthzIndex } from './index.js';
import type { AccessRequest, Decision, Explanation } from './types.js';

export interface AccessControlOptions {
  index: AuthzIndex;
  /** A function lets the mode change at run time (fault injection, `keyless authz off`). */
  mode: AuthzMode | (() => AuthzMode);
}

function toRequest(c: AccessCheck): AccessRequest {
  const req: AccessRequest = { principalId: c.principalId, action: c.action, isDataAction: c.isDataAction, scope: c.scope };
  if (c.groupIds !== undefined) req.groupIds = c.groupIds;
  if (c.attributes !== undefined) req.attributes = c.attributes;
  return req;
}

/** AccessResult with the explanation and summary computed on first read: allowed requests never pay for them. */
class LazyResult implements AccessResult {
  private cached: Explanation | undefined;
  constructor(
    private readonly decision: Decision,
    readonly mode: AuthzMode,
    private readonly request: AccessRequest,
  ) {}
  get granted(): boolean {
    return this.decision.allowed;
  }
  get allowed(): boolean {
    return this.mode !== 'enforce' || this.decision.allowed;
  }
  get conditionInvolved(): boolean {
    return this.decision.conditionInvolved;
  }
  get explanation(): Explanation {
    this.cached ??= this.decision.explain();
    return this.cached;
  }
  get summary(): string {
    if (this.decision.reason === 'authz-off') return 'authorization is off';
    // A grant names its role from the decision itself: no trace of every assignment on the hot path.
    const { matchedScope: scope, matchedRole: role } = this.decision;
    if (this.decision.allowed && scope !== undefined && role !== undefined) return allowedSummary(this.request, { role: role.roleName, scope });
    return summarizeExplanation(this.explanation);
  }
  toJSON(): Record<string, unknown> {
    return { granted: this.granted, allowed: this.allowed, mode: this.mode, conditionInvolved: this.conditionInvolved, summary: this.summary, explanation: this.explanation };
  }
}

export class RbacAccessControl implements AccessControl {
  private readonly index: AuthzIndex;
  private readonly modeOf: () => AuthzMode;

  constructor(opts: AccessControlOptions) {
    this.index = opts.index;
    const m = opts.mode;
    this.modeOf = typeof m === 'function' ? m : () => m;
  }

  get mode(): AuthzMode {
    return this.modeOf();
  }

  check(c: AccessCheck): AccessResult {
    const mode = this.modeOf();
    const req = toRequest(c);
    const decision = mode === 'off' ? authzOffDecision(this.index, req) : this.index.decide(req);
    return new LazyResult(decision, mode, req);
  }

  /** Exposes the full Decision (matched assignment / role) for callers that need more than AccessResult. */
  decide(c: AccessCheck): Decision {
    return this.index.decide(toRequest(c));
  }

  visibleSubscriptions(principalId: string, groupIds?: readonly string[]): Set<string> | 'all' {
    if (this.modeOf() === 'off') return 'all';
    return this.index.visibleSubscriptions(principalId, groupIds);
  }
}

export const createAccessControl = (opts: AccessControlOptions): RbacAccessControl => new RbacAccessControl(opts);
