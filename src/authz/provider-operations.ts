/**
 * The operation catalog of the providers Keyless serves (data/provider-operations.json): which action
 * strings exist and on which plane. Used to validate custom roles and to measure how much a role grants.
 */
import { readFileSync } from 'node:fs';

const DATA_URL = new URL('../../data/provider-operations.json', import.meta.url);

export interface ProviderOperation {
  /** As published (e.g. `Microsoft.KeyVault/vaults/secrets/getSecret/action`). */
  readonly name: string;
  /** Lower-cased name, for matching. */
  readonly key: string;
  readonly isDataAction: boolean;
  readonly displayName: string;
  readonly provider: string;
}

interface Catalog {
  readonly operations: readonly ProviderOperation[];
  /** Lower-cased provider namespaces present in the catalog. */
  readonly providers: ReadonlySet<string>;
}

let catalog: Catalog | undefined;

interface RawOp {
  name?: unknown;
  isDataAction?: unknown;
  displayName?: unknown;
}
interface RawProvider {
  name?: unknown;
  operations?: RawOp[];
  resourceTypes?: { operations?: RawOp[] }[];
}

function load(): Catalog {
  if (catalog === undefined) {
    const raw = JSON.parse(readFileSync(DATA_URL, 'utf8')) as Record<string, RawProvider>;
    const operations: ProviderOperation[] = [];
    const providers = new Set<string>();
    for (const [ns, p] of Object.entries(raw)) {
      providers.add(ns.toLowerCase());
      const ops = [...(p.operations ?? []), ...(p.resourceTypes ?? []).flatMap((t) => t.operations ?? [])];
      for (const o of ops) {
        if (typeof o.name !== 'string') continue;
        operations.push({
          name: o.name,
          key: o.name.trim().toLowerCase(),
          isDataAction: o.isDataAction === true,
          displayName: typeof o.displayName === 'string' ? o.displayName : '',
          provider: ns,
        });
      }
    }
    catalog = { operations, providers };
  }
  return catalog;
}

export const providerOperations = (): readonly ProviderOperation[] => load().operations;

/** Whether Keyless ships the operation list of this provider namespace (case-insensitive). */
export const isCatalogProvider = (namespace: string): boolean => load().providers.has(namespace.toLowerCase());

/** True when the catalog lists `action` as a data action (and not also as a control-plane one). */
export function isDataActionName(action: string): boolean {
  const key = action.trim().toLowerCase();
  const ops = providerOperations().filter((o) => o.key === key);
  return ops.length > 0 && ops.every((o) => o.isDataAction);
}
