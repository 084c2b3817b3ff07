import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import type { PrincipalName, SessionInfo } from '../api-types.js';
import { arm, request } from './api.js';
import type { RoleDefinition, Subscription } from './models.js';

export interface AppState {
  session: SessionInfo;
  subscriptions: Subscription[];
  subscriptionId: string;
  setSubscriptionId(id: string): void;
}

export const AppCtx = createContext<AppState>(undefined as unknown as AppState);
export const useApp = (): AppState => useContext(AppCtx);

// --- principal display names (the Graph stand-in), cached for the page's life ----------------------------
const names = new Map<string, PrincipalName | null>();
const listeners = new Set<() => void>();

async function fetchNames(ids: string[]): Promise<void> {
  const missing = [...new Set(ids.map((i) => i.toLowerCase()))].filter((i) => i && !names.has(i));
  if (missing.length === 0) return;
  for (const id of missing) names.set(id, null);
  const r = await request<{ value: PrincipalName[] }>('GET', `/portal/api/directory/principals?ids=${missing.join(',')}`);
  for (const p of r.value) names.set(p.objectId.toLowerCase(), p);
  for (const l of listeners) l();
}

/** Re-renders the caller once the names of `ids` are known. */
export function usePrincipalNames(ids: string[]): (id: string) => PrincipalName | undefined {
  const [, bump] = useState(0);
  const key = [...new Set(ids)].sort().join(',');
  useEffect(() => {
    const l = () => bump((n) => n + 1);
    listeners.add(l);
    void fetchNames(ids).catch(() => undefined);
    return () => void listeners.delete(l);
  }, [key]);
  return (id) => names.get(id.toLowerCase()) ?? undefined;
}

/** The short form, for tight places such as the access graph's nodes. */
export function shortKindLabel(kind: PrincipalName['kind'] | undefined): string {
  return kind === 'SystemAssigned' ? 'System-assigned identity' : kind === 'UserAssigned' ? 'User-assigned identity' : kind === 'Application' ? 'Application' : 'Unknown principal';
}

export function kindLabel(kind: PrincipalName['kind'] | undefined): string {
  switch (kind) {
    case 'SystemAssigned':
      return 'System-assigned managed identity';
    case 'UserAssigned':
      return 'User-assigned managed identity';
    case 'Application':
      return 'Application';
    default:
      return 'Unknown principal';
  }
}

// --- role definitions (built-in and custom), one list per subscription ------------------------------------
const roleCache = new Map<string, Promise<RoleDefinition[]>>();

export function roleDefinitions(subscriptionId: string): Promise<RoleDefinition[]> {
  let p = roleCache.get(subscriptionId);
  if (!p) {
    p = arm.list<RoleDefinition>(`/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions`).then((rs) =>
      rs.sort((a, b) => a.properties.roleName.localeCompare(b.properties.roleName)),
    );
    p.catch(() => roleCache.delete(subscriptionId));
    roleCache.set(subscriptionId, p);
  }
  return p;
}

export function useRoles(subscriptionId: string): { roles: RoleDefinition[]; nameOf(roleDefinitionId: string): string } {
  const [roles, setRoles] = useState<RoleDefinition[]>([]);
  useEffect(() => {
    let live = true;
    roleDefinitions(subscriptionId).then((r) => live && setRoles(r), () => undefined);
    return () => {
      live = false;
    };
  }, [subscriptionId]);
  const byGuid = new Map(roles.map((r) => [r.name.toLowerCase(), r.properties.roleName]));
  return { roles, nameOf: (id) => byGuid.get((id.split('/').pop() ?? '').toLowerCase()) ?? (id.split('/').pop() ?? id) };
}
