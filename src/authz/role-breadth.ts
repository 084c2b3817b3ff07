/**
 * "How much does this role grant?" — the measure used to rank the roles an explanation suggests.
 *
 * Counting permission entries misleads (`*` is one entry; Key Vault Secrets User's two exact data actions are
 * two). Instead a role's breadth on a plane is the number of operations in the shipped provider catalog that the
 * role's (Actions − NotActions) or (DataActions − NotDataActions) cover, i.e. what the role would actually let
 * you do in the providers Keyless serves, plus one per granting pattern for a provider outside the catalog (an
 * under-estimate, but it keeps a role with 30 Microsoft.Network grants from looking narrow).
 *
 * Azure appends the same companion grants to hundreds of built-in roles (`Microsoft.Authorization/*\/read`,
 * `Microsoft.Resources/deployments/*`, `Microsoft.Insights/alertRules/*`, `Microsoft.Support/*`, …). They say
 * nothing about what a role is for, yet `Microsoft.Authorization/*\/read` alone covers dozens of catalog
 * operations and would make Managed Identity Operator look broader than a 35-action service role. Patterns with a
 * provider that occur in at least 10% of built-in roles are therefore left out of the measure (data-driven: that
 * is exactly the five companions above in the current data).
 *
 * Per-pattern match sets are bitsets over the catalog, cached; a role's breadth is a few OR/AND-NOT passes over
 * ~64 words, so ranking hundreds of candidate roles stays in the low milliseconds after warm-up.
 */
import { actionProvider, type ActionPattern } from '../core/actions.js';
import { builtinRoles } from './builtin-roles.js';
import type { CompiledRole } from './index.js';
import { isCatalogProvider, providerOperations, type ProviderOperation } from './provider-operations.js';

interface CatalogBits {
  readonly words: number;
  /** operation indices per lower-cased provider */
  readonly byProvider: ReadonlyMap<string, readonly number[]>;
  readonly ops: readonly ProviderOperation[];
}

let bits: CatalogBits | undefined;
const patternBits = new Map<string, Uint32Array>();

function catalog(): CatalogBits {
  if (bits === undefined) {
    const ops = providerOperations();
    const byProvider = new Map<string, number[]>();
    ops.forEach((o, i) => {
      const p = o.provider.toLowerCase();
      let l = byProvider.get(p);
      if (l === undefined) byProvider.set(p, (l = []));
      l.push(i);
    });
    bits = { words: Math.ceil(ops.length / 32), byProvider, ops };
  }
  return bits;
}

/** Operations (both planes) a single pattern covers, as a bitset over the catalog. */
function bitsOf(p: ActionPattern): Uint32Array {
  let b = patternBits.get(p.key);
  if (b === undefined) {
    const c = catalog();
    b = new Uint32Array(c.words);
    const provider = actionProvider(p.key);
    const candidates = provider === undefined ? c.ops.map((_, i) => i) : (c.byProvider.get(provider) ?? []);
    for (const i of candidates) if (p.matchesNormalized(c.ops[i]!.key)) b[i >>> 5]! |= 1 << (i & 31);
    patternBits.set(p.key, b);
  }
  return b;
}

let planeMasks: { data: Uint32Array; control: Uint32Array } | undefined;
function planeMask(isData: boolean): Uint32Array {
  if (planeMasks === undefined) {
    const c = catalog();
    const data = new Uint32Array(c.words);
    const control = new Uint32Array(c.words);
    c.ops.forEach((o, i) => {
      const target = o.isDataAction ? data : control;
      target[i >>> 5]! |= 1 << (i & 31);
    });
    planeMasks = { data, control };
  }
  return isData ? planeMasks.data : planeMasks.control;
}

function popcount(a: Uint32Array): number {
  let n = 0;
  for (let v of a) {
    v = v - ((v >>> 1) & 0x55555555);
    v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
    n += (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
  }
  return n;
}

const COMPANION_SHARE = 0.1;
let companions: ReadonlySet<string> | undefined;

/** Lower-cased provider-specific patterns that at least 10% of built-in roles carry. */
export function companionPatterns(): ReadonlySet<string> {
  if (companions === undefined) {
    const roles = builtinRoles();
    const counts = new Map<string, number>();
    for (const r of roles) {
      const seen = new Set<string>();
      for (const p of r.permissions) for (const a of [...p.actions, ...p.dataActions]) seen.add(a.trim().toLowerCase());
      for (const a of seen) counts.set(a, (counts.get(a) ?? 0) + 1);
    }
    companions = new Set([...counts].filter(([a, n]) => n >= roles.length * COMPANION_SHARE && actionProvider(a) !== undefined).map(([a]) => a));
  }
  return companions;
}

export interface RoleBreadth {
  /** Catalog operations granted on the plane (companion grants excluded). */
  readonly operations: number;
  /** Granting patterns whose provider Keyless does not ship (breadth unknown). */
  readonly foreignPatterns: number;
  /** operations + foreignPatterns: the ranking measure. */
  readonly score: number;
}

const breadthCache = new WeakMap<CompiledRole, { data?: RoleBreadth; control?: RoleBreadth }>();

export function roleBreadth(role: CompiledRole, isDataAction: boolean): RoleBreadth {
  let entry = breadthCache.get(role);
  if (entry === undefined) breadthCache.set(role, (entry = {}));
  const cached = isDataAction ? entry.data : entry.control;
  if (cached !== undefined) return cached;

  const c = catalog();
  const total = new Uint32Array(c.words);
  const block = new Uint32Array(c.words);
  const mask = planeMask(isDataAction);
  const skip = companionPatterns();
  let foreignPatterns = 0;
  for (const b of role.blocks) {
    block.fill(0);
    const allow = isDataAction ? b.dataActions : b.actions;
    const subtract = isDataAction ? b.notDataActions : b.notActions;
    for (const p of allow) {
      if (skip.has(p.key)) continue;
      const provider = actionProvider(p.key);
      if (provider !== undefined && !isCatalogProvider(provider)) foreignPatterns++;
      const pb = bitsOf(p);
      for (let i = 0; i < c.words; i++) block[i]! |= pb[i]!;
    }
    for (const p of subtract) {
      const pb = bitsOf(p);
      for (let i = 0; i < c.words; i++) block[i]! &= ~pb[i]!;
    }
    for (let i = 0; i < c.words; i++) total[i]! |= block[i]! & mask[i]!;
  }
  const operations = popcount(total);
  const result: RoleBreadth = { operations, foreignPatterns, score: operations + foreignPatterns };
  if (isDataAction) entry.data = result;
  else entry.control = result;
  return result;
}
