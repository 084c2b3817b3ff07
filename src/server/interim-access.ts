import type { AccessCheck, AccessControl, AccessResult, AuthzMode } from '../core/access.js';
import type { Store } from '../store/index.js';
import { repos } from '../store/index.js';
import { OWNER_ROLE_ID } from './bootstrap.js';

/**
 * Until the RBAC engine lands: exactly the principals holding Owner at subscription scope may act.
 * Replaced by authz/ — kept only as the fallback the issue describes.
 */
export async function interimAccess(store: Store, mode: AuthzMode): Promise<AccessControl> {
  const owners = new Map<string, Set<string>>();
  const load = async () => {
    owners.clear();
    for (const r of await repos.roleAssignments.list(store.db)) {
      if (r.role_definition_name !== OWNER_ROLE_ID || !/^\/subscriptions\/[^/]+$/.test(r.scope_key)) continue;
      const set = owners.get(r.principal_id) ?? new Set<string>();
      set.add(r.scope_key.split('/')[2]!);
      owners.set(r.principal_id, set);
    }
  };
  await load();
  store.onChange((c) => {
    if (c.topic === 'roleAssignment') void load();
  });
  return {
    mode,
    check(req: AccessCheck): AccessResult {
      const sub = /^\/subscriptions\/([^/]+)/i.exec(req.scope)?.[1]?.toLowerCase();
      const granted = !req.isDataAction && sub !== undefined && Boolean(owners.get(req.principalId)?.has(sub));
      return {
        granted,
        allowed: granted || mode !== 'enforce',
        mode,
        conditionInvolved: false,
        summary: granted ? 'Owner at subscription scope' : 'only Owner at subscription scope is allowed until the RBAC engine is enabled',
        explanation: { rule: 'interim-owner-only' },
      };
    },
    visibleSubscriptions(principalId: string) {
      return owners.get(principalId) ?? new Set<string>();
    },
  };
}
