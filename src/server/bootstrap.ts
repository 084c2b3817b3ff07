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
  await repos.meta.set(store.db, 'adminAppId', principal.appId);
  const scope = `/subscriptions/${subscriptionId}`;
  const name = newGuid();
  await repos.roleAssignments.insert(store.db, {
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
  store.publish({ topic: 'roleAssignment', key: name });
  const admin: AdminCredential = { tenantId, subscriptionId, clientId: principal.appId, objectId: principal.objectId, clientSecret: secret };
  writeSecretFile(adminFile, JSON.stringify(admin, null, 2) + '\n');
  return { tenantId, subscriptionId, admin, adminFile, firstStart: true };
}

export function writeSecretFile(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Create with 0600 so the secret is never readable by others, not even between write and chmod.
  const fd = fs.openSync(file, 'w', 0o600);
  try {
    fs.writeSync(fd, content);
  } finally {
    fs.closeSync(fd);
  }
  fs.chmodSync(file, 0o600);
}
