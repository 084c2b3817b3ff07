import fs from 'node:fs';
import path from 'node:path';
import type { Clock } from '../core/clock.js';
import { newGuid } from '../core/ids.js';
import type { Directory } from '../directory/index.js';
import type { Store } from '../store/index.js';
import { repos } from '../store/index.js';

export const OWNER_ROLE_ID = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';

export interface AdminCredential {
  tenantId: string;
  subscriptionId: string;
  clientId: string;
  objectId: string;
  /** Present only in the file written at first start (and in-process for tests). */
  clientSecret?: string;
}

export interface BootstrapResult {
  tenantId: string;
  subscriptionId: string;
  admin: AdminCredential;
  adminFile: string;
  firstStart: boolean;
}

/**
 * First start creates one tenant, one subscription and an admin application holding Owner on it. The admin
 * secret is stored hashed; its plaintext goes once to a 0600 file, as Azure shows a secret only once.
 */
export async function bootstrap(store: Store, directory: Directory, clock: Clock, dataDir: string): Promise<BootstrapResult> {
  const now = clock.now();
  const tenantId = await repos.meta.setIfAbsent(store.db, 'tenantId', newGuid());
  await repos.tenants.insert(store.db, { id: tenantId, display_name: 'Keyless', created_at: now });
  const subscriptionId = await repos.meta.setIfAbsent(store.db, 'defaultSubscriptionId', newGuid());
  await repos.subscriptions.insert(store.db, { id: subscriptionId, tenant_id: tenantId, display_name: 'Keyless Subscription', state: 'Enabled', created_at: now });

  const adminFile = path.join(dataDir, 'admin.json');
  const existingAppId = await repos.meta.get(store.db, 'adminAppId');
  if (existingAppId) {
    const p = await directory.getByAppId(existingAppId);
    if (!p) throw new Error(`the store names admin application ${existingAppId} but it does not exist`);
    return { tenantId, subscriptionId, admin: { tenantId, subscriptionId, clientId: p.appId, objectId: p.objectId }, adminFile, firstStart: false };
  }
  const { principal, secret } = await directory.createApplication({ tenantId, displayName: 'keyless-admin' });
  const admin: AdminCredential = { tenantId, subscriptionId, clientId: principal.appId, objectId: principal.objectId, clientSecret: secret };
  // Crash safety: the secret reaches its file before the store names this application the admin, and the name and
  // the Owner grant commit together. A kill at any point leaves at worst an unused application and a file the next
  // start overwrites, never an admin whose secret is lost or who lacks Owner.
  writeSecretFile(adminFile, JSON.stringify(admin, null, 2) + '\n');
  const scope = `/subscriptions/${subscriptionId}`;
  const name = newGuid();
  await store.transaction(async (tx, changed) => {
    await repos.meta.set(tx, 'adminAppId', principal.appId);
    await repos.roleAssignments.insert(tx, {
      name,
      scope_key: scope.toLowerCase(),
      principal_id: principal.objectId,
      role_definition_name: OWNER_ROLE_ID,
      body: JSON.stringify({
        id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
        name,
        type: 'Microsoft.Authorization/roleAssignments',
        properties: {
          roleDefinitionId: `${scope}/providers/Microsoft.Authorization/roleDefinitions/${OWNER_ROLE_ID}`,
          principalId: principal.objectId,
          principalType: 'ServicePrincipal',
          scope,
          condition: null,
          conditionVersion: null,
          description: 'Keyless bootstrap: the admin application owns the default subscription',
          createdOn: new Date(now).toISOString(),
          updatedOn: new Date(now).toISOString(),
          createdBy: null,
          updatedBy: null,
        },
      }),
      created_at: now,
    });
    changed({ topic: 'roleAssignment', key: name });
  });
  return { tenantId, subscriptionId, admin, adminFile, firstStart: true };
}

export function writeSecretFile(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Written beside the target and renamed over it: a crash leaves the old file or the new one, never half of
  // either. Created 0600 so the secret is never readable by others, not even for an instant.
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}
