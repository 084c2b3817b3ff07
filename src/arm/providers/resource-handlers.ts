import type { StoredResource } from '../../resources/index.js';
import type { ArmRequest, ArmResponse } from '../context.js';
import { resourceNotFound } from '../errors.js';
import { requireGroup, requireSubscription } from './resources.js';

/**
 * GET, DELETE and list for a tracked resource type: the parts every provider answers the same way.
 * Writes differ per type and stay with each provider.
 */
export function resourceHandlers(type: string, render: (r: StoredResource) => unknown = (r) => r.body) {
  const typeKey = type.toLowerCase();
  return {
    async get(req: ArmRequest): Promise<ArmResponse> {
      const group = await requireGroup(req.deps, req.route.subscriptionId, req.route.group);
      const r = await req.deps.resources.get(req.route.id);
      if (!r || r.typeKey !== typeKey) throw resourceNotFound(type, req.route.name!, group.name);
      return { status: 200, body: render(r) };
    },
    async delete(req: ArmRequest): Promise<ArmResponse> {
      await requireGroup(req.deps, req.route.subscriptionId, req.route.group);
      const r = await req.deps.resources.delete(req.route.id);
      return { status: r ? 200 : 204 };
    },
    async list(req: ArmRequest): Promise<StoredResource[]> {
      const { route, deps } = req;
      if (route.group) {
        const g = await requireGroup(deps, route.subscriptionId, route.group);
        return deps.resources.list({ subscriptionId: g.subscriptionId, groupKey: g.groupKey!, typeKey });
      }
      if (!route.subscriptionId) return [];
      await requireSubscription(deps, route.subscriptionId);
      return deps.resources.list({ subscriptionId: route.subscriptionId.toLowerCase(), typeKey });
    },
  };
}
