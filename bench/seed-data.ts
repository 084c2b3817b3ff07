/**
 * Seeds a data directory for the cold-start and memory benches, once, outside any timing: VMs with a system
 * identity and user-assigned identities through ARM (so principals, IMDS addresses and resources are exactly
 * what the API would make), then role assignments written to the store in bulk (the write path is not what
 * these benches measure; the load path is).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { startKeyless } from '../src/index.js';
import { Store } from '../src/store/index.js';
import { parseScope } from '../src/core/scope.js';
import { builtinRoleByName } from '../src/authz/builtin-roles.js';
import { request } from './lib.js';

export interface SeedOptions {
  tlsDir: string;
  vms: number;
  identities: number;
  assignments: number;
}

export interface Seeded {
  dataDir: string;
  subscriptionId: string;
  /** An ARM token of the admin, valid for an hour (signing keys persist in the data dir). */
  adminArm: string;
  /** A resource to GET as the first ARM request. */
  probeId: string;
  /** Rows actually in role_assignments (bootstrap's own included). */
  assignments: number;
  dispose(): void;
}

const ROLES = ['Reader', 'Contributor', 'Key Vault Secrets User', 'Storage Blob Data Reader', 'Storage Blob Data Contributor', 'Key Vault Reader'].map((n) => builtinRoleByName(n)!);

export async function seedDataDir(opts: SeedOptions): Promise<Seeded> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-bench-seed-'));
  const k = await startKeyless({ dataDir, tlsDir: opts.tlsDir, logLevel: 'silent', cleanup: false });
  const ca = fs.readFileSync(k.caFile);
  const principals: string[] = [];
  const scopes: string[] = [];
  let adminArm: string;
  let probeId: string;
  try {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: k.admin.clientId, client_secret: k.admin.clientSecret!, scope: `${k.endpoints.armAudience}.default` });
    adminArm = (await request(`${k.endpoints.authority}/oauth2/v2.0/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString(), ca })).json.access_token;
    const headers = { authorization: `Bearer ${adminArm}`, 'content-type': 'application/json' };
    const put = async (id: string, api: string, body: unknown) => {
      const r = await request(`${k.endpoints.resourceManager}${id}?api-version=${api}`, { method: 'PUT', headers, body: JSON.stringify(body), ca });
      if (r.status >= 300) throw new Error(`seed ${id}: ${r.status} ${r.text.slice(0, 200)}`);
      return r.json;
    };
    const groups = Array.from({ length: 10 }, (_, g) => `/subscriptions/${k.subscriptionId}/resourceGroups/seed-${g}`);
    for (const g of groups) await put(g, '2021-04-01', { location: 'westeurope' });
    scopes.push(`/subscriptions/${k.subscriptionId}`, ...groups);
    const work: (() => Promise<void>)[] = [];
    for (let i = 0; i < opts.identities; i++) {
      work.push(async () => {
        const r = await put(`${groups[i % groups.length]}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-${i}`, '2023-01-31', { location: 'westeurope' });
        principals.push(r.properties.principalId);
        scopes.push(r.id);
      });
    }
    for (let i = 0; i < opts.vms; i++) {
      work.push(async () => {
        const r = await put(`${groups[i % groups.length]}/providers/Microsoft.Compute/virtualMachines/vm-${i}`, '2024-07-01', { location: 'westeurope', identity: { type: 'SystemAssigned' } });
        principals.push(r.identity.principalId);
        scopes.push(r.id);
      });
    }
    // A few requests in flight: seeding is not measured, it only has to be quick.
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < work.length) await work[next++]!();
    }));
    probeId = scopes[scopes.length - 1]!;
  } finally {
    await k.stop();
  }

  const store = await Store.open({ dataDir, databaseUrl: undefined, memory: false });
  let assignments = 0;
  try {
    const now = Date.now();
    for (let start = 0; start < opts.assignments; start += 1000) {
      const rows = [];
      for (let i = start; i < Math.min(opts.assignments, start + 1000); i++) {
        const scope = parseScope(scopes[i % scopes.length]!);
        const role = ROLES[i % ROLES.length]!;
        // Unique (scope, principal, role) triples, as the service would enforce.
        const principalId = principals.length && i < principals.length * 4 ? principals[i % principals.length]! : randomUUID();
        const name = randomUUID();
        const body = {
          id: `${scope.id}/providers/Microsoft.Authorization/roleAssignments/${name}`,
          name,
          scope: scope.id,
          roleDefinitionId: `/subscriptions/${k.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${role.name}`,
          principalId,
          principalType: 'ServicePrincipal',
          condition: null,
          conditionVersion: null,
          description: null,
          createdOn: new Date(now).toISOString(),
          updatedOn: new Date(now).toISOString(),
          createdBy: null,
          updatedBy: null,
          delegatedManagedIdentityResourceId: null,
        };
        rows.push({ name, scope_key: scope.key, principal_id: principalId, role_definition_name: role.name, body: JSON.stringify(body), created_at: now });
      }
      await store.db.insertInto('role_assignments').values(rows).onConflict((oc) => oc.doNothing()).execute();
    }
    assignments = Number((await store.db.selectFrom('role_assignments').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  } finally {
    await store.close();
  }
  return { dataDir, subscriptionId: k.subscriptionId, adminArm, probeId, assignments, dispose: () => fs.rmSync(dataDir, { recursive: true, force: true }) };
}
