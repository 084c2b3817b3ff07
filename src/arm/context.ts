import type { ActivityEvent } from '../core/activity-event.js';
import type { AccessCheck, AccessControl, AccessResult } from '../core/access.js';
import type { Caller } from '../core/caller.js';
import type { Clock } from '../core/clock.js';
import type { Directory } from '../directory/index.js';
import type { ResourceService, StoredResource } from '../resources/index.js';
import type { Store } from '../store/index.js';
import type { Logger } from 'pino';
import type { ArmRoute } from './route.js';

export interface BearerVerifier {
  verify(token: string): Promise<Caller>;
}

export interface ArmEndpoints {
  resourceManager: string;
  login: string;
  /** Audiences ARM accepts; the first is what `/metadata/endpoints` advertises. */
  audiences: string[];
  keyVaultDnsSuffix: string;
  storageSuffix: string;
  portal: string;
}

export interface ArmDeps {
  tenantId: string;
  log: Logger;
  clock: Clock;
  store: Store;
  directory: Directory;
  resources: ResourceService;
  access: AccessControl;
  bearer: BearerVerifier;
  endpoints: ArmEndpoints;
  providers: ProviderHandler[];
  /** Runs after every successful mutation (its request path), before the response: e.g. binding a new VM's IMDS listener. */
  afterMutation?(path: string): Promise<void>;
  /** Audit (src/audit): every authenticated mutation, any outcome, and every authorization denial. Must not block. */
  onActivity?(e: ArmActivityEvent): void;
}

/** What the activity log records about one ARM request (see ArmDeps.onActivity). */
export type ArmActivityEvent = ActivityEvent;

export interface ArmRequest {
  method: string;
  route: ArmRoute & { kind: 'resource' };
  body: unknown;
  query: Record<string, string>;
  apiVersion: string;
  caller: Caller;
  deps: ArmDeps;
  /** Throws AuthorizationFailed unless the caller may perform `action` at `scope` (attributes: ABAC @Request/@Resource). */
  authorize(action: string, scope: string, attributes?: AccessCheck['attributes']): void;
  /** The decision with the mode applied, for handlers that gather several before refusing; audit-only denials are recorded. */
  check(action: string, scope: string, attributes?: AccessCheck['attributes']): AccessResult;
  /** Checks a linked scope (e.g. assigning an identity); throws LinkedAuthorizationFailed. */
  authorizeLinked(primaryAction: string, primaryScope: string, linkedAction: string, linkedScopes: string[]): void;
}

export interface ArmResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** One resource type's handlers. Authorization for the primary action has already passed when they run. */
export interface ProviderHandler {
  /** e.g. Microsoft.Compute/virtualMachines */
  type: string;
  get?(req: ArmRequest): Promise<ArmResponse>;
  put?(req: ArmRequest): Promise<ArmResponse>;
  patch?(req: ArmRequest): Promise<ArmResponse>;
  delete?(req: ArmRequest): Promise<ArmResponse>;
  /** Items of a collection at the route's scope; the pipeline filters them by read permission. */
  list?(req: ArmRequest): Promise<StoredResource[] | unknown[]>;
  render?(r: StoredResource, req: ArmRequest): unknown;
  /** POST to the type itself, with no resource name (e.g. `…/providers/Microsoft.Storage/checkNameAvailability`). */
  post?(req: ArmRequest): Promise<ArmResponse>;
  /** POST actions by lower-cased name, e.g. listkeys. */
  actions?: Record<string, (req: ArmRequest) => Promise<ArmResponse>>;
  /** Overrides the default `{type}/read|write|delete|{action}/action` mapping. */
  actionFor?(method: string, route: ArmRequest['route']): string;
  /** Extension resources (role assignments) are authorized at their scope, not at their own id. */
  authorizationScope?(route: ArmRequest['route']): string;
  /** The handler authorizes itself (it needs request attributes for ABAC conditions, or reads are public). */
  authorizesItself?: boolean;
  /** Serves a collection GET whole (its own filters, paging with nextLink); `list` is then not used. */
  listPage?(req: ArmRequest): Promise<ArmResponse>;
}
