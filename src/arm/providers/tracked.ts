import { desiredIdentity, type DesiredIdentity, type ArmDocument, type ResourceInternal, type StoredResource } from '../../resources/index.js';
import type { Change, Tx } from '../../store/index.js';
import type { ArmRequest, ArmResponse } from '../context.js';
import { locationRequired, resourceNotFound, invalidName } from '../errors.js';
import { requireGroup } from './resources.js';
import { resourceHandlers } from './resource-handlers.js';
import { checkObject, optionalObject, optionalTags } from './validate.js';

const UAI_ASSIGN = 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action';

export interface TrackedSpec {
  type: string;
  nameRule: RegExp;
  nameHint: string;
  /** Server-computed properties merged over the client's (provisioningState, vmId, endpoints…). */
  computeProperties(input: Record<string, unknown>, current: StoredResource | undefined, id: string, req: ArmRequest): Record<string, unknown>;
  supportsIdentity: boolean;
  /** Extra internal state on create (e.g. the VM's IMDS address). */
  onCreate?(tx: Tx, internal: ResourceInternal, req: ArmRequest): Promise<void>;
}

/**
 * PUT/PATCH/GET/DELETE for an ordinary tracked resource that may carry an `identity`. PUT replaces, PATCH
 * merges `tags`, `properties` and `identity`; both complete synchronously with provisioningState Succeeded.
 */
export function trackedHandlers(spec: TrackedSpec) {
  async function write(req: ArmRequest, mode: 'put' | 'patch'): Promise<ArmResponse> {
    const { route, deps } = req;
    const name = route.name!;
    if (!spec.nameRule.test(name)) throw invalidName(spec.type.split('/').pop()!, name, spec.nameHint);
    const group = await requireGroup(deps, route.subscriptionId, route.group);
    const input = checkObject(req.body);
    const current = await deps.resources.get(route.id);
    if (mode === 'patch' && !current) throw resourceNotFound(spec.type, name, group.name);

    const location = mode === 'patch' ? current!.body.location : input['location'];
    if (typeof location !== 'string' || !location.trim()) throw locationRequired();
    const tags = mode === 'patch' && input['tags'] === undefined ? current!.body.tags : optionalTags(input['tags']);
    const props = optionalObject(input['properties'], 'properties') ?? {};
    const mergedProps = mode === 'patch' ? { ...(current!.body.properties ?? {}), ...props } : props;

    let desired: DesiredIdentity | undefined;
    if (spec.supportsIdentity) {
      desired = desiredIdentity(deps.resources.currentIdentity(current), input['identity'], mode);
      const newlyAttached = [...desired.userAssigned.entries()].filter(([k]) => !current?.internal.userAssigned?.[k]).map(([, v]) => v);
      if (newlyAttached.length > 0) req.authorizeLinked(`${spec.type}/write`, route.id, UAI_ASSIGN, newlyAttached);
    }

    const { resource, created } = await deps.resources.upsert(route.id, async (tx: Tx, changed: (c: Change) => void, cur) => {
      let internal: ResourceInternal = { ...(cur?.internal ?? {}) };
      if (!cur && spec.onCreate) await spec.onCreate(tx, internal, req);
      let identity;
      if (desired) {
        const applied = await deps.resources.applyIdentity(tx, changed, { id: route.id, tenantId: deps.tenantId, name, current: cur, internal }, desired);
        identity = applied.identity;
        internal = applied.internal;
      }
      const body: ArmDocument = {
        id: route.id,
        name,
        type: spec.type,
        location: cur?.body.location ?? location,
        ...(tags ? { tags } : {}),
        ...(identity ? { identity } : {}),
        properties: { ...mergedProps, ...spec.computeProperties(mergedProps, cur, route.id, req) },
      };
      for (const k of ['sku', 'kind', 'zones', 'plan'] as const) {
        const v = input[k] ?? cur?.body[k];
        if (v !== undefined) body[k] = v;
      }
      return { body, internal };
    });
    return { status: created ? 201 : 200, body: resource.body };
  }

  const crud = resourceHandlers(spec.type);
  return {
    type: spec.type,
    ...crud,
    put: (req: ArmRequest) => write(req, 'put'),
    patch: (req: ArmRequest) => write(req, 'patch'),
  };
}
