import type { KeylessPlugin } from '../server/plugin.js';
import { blobEndpoint, storageProviders, STORAGE_ACCOUNT_TYPE } from '../arm/providers/storage.js';
import { storageChallenge } from './auth/authenticate.js';
import { createAccountKeys, isStoredAccountKeys, openAccountKeys, regenerateAccountKey } from './domain/account-keys.js';
import { AccountRegistry } from './domain/accounts.js';
import { BlobService, type ContainerRecord } from './domain/service.js';
import { createBlobHandler } from './http/pipeline.js';

const MiB = 1024 * 1024;
/** Largest Put Blob / Put Block body Keyless takes (the SDKs' single-shot upload limit is 256 MiB). */
const MAX_BODY = 256 * MiB;

const view = (c: ContainerRecord) => ({ name: c.name, etag: c.etag, lastModified: c.lastModified, metadata: c.metadata });

/**
 * Blob storage: `Microsoft.Storage/storageAccounts` (+ keys, blob service, containers) on ARM, and the Blob
 * data plane on `{account}.blob.{suffix}` and path-style `/{account}/…` URLs.
 */
export const blobPlugin: KeylessPlugin = {
  name: 'blob',
  async setup(ctx) {
    const blobs = new BlobService(ctx.store, ctx.clock);
    const accounts = new AccountRegistry(ctx.store, ctx.sealer, ctx.clock);
    const unsubscribe = ctx.store.onChange((c) => accounts.onChange(c));
    const accountType = STORAGE_ACCOUNT_TYPE.toLowerCase();

    // An account's containers and bytes go with it (directly, or with its resource group).
    ctx.resources.onDelete(async (tx, _changed, r) => {
      if (r.typeKey === accountType) await blobs.purgeAccount(tx, r.name.toLowerCase());
    });

    const providers = storageProviders({
      dnsSuffix: ctx.config.dnsSuffix,
      port: ctx.port,
      now: () => ctx.clock.now(),
      keys: {
        create: (id, at) => createAccountKeys(ctx.sealer, id, at),
        regenerate: (id, stored, keyName, at) =>
          regenerateAccountKey(ctx.sealer, id, isStoredAccountKeys(stored) ? stored : createAccountKeys(ctx.sealer, id, at), keyName, at),
        reveal: (id, stored) =>
          isStoredAccountKeys(stored)
            ? openAccountKeys(ctx.sealer, id, stored).map((k) => ({ keyName: k.keyName, value: k.value.toString('base64'), creationTime: k.creationTime }))
            : [],
      },
      containers: {
        list: async (account) => (await blobs.allContainers(account)).map(view),
        get: async (account, name) => {
          const c = await blobs.getContainer(account, name);
          return c ? view(c) : undefined;
        },
        put: async (account, name, metadata) => {
          const { record, created } = await blobs.createContainer(account, name, metadata, 'update');
          return { view: view(record), created };
        },
        delete: (account, name) => blobs.deleteContainer(account, name),
      },
    });
    for (const p of providers) ctx.addArmProvider(p);

    ctx.mountSurface(
      'blob',
      createBlobHandler({
        dnsSuffix: ctx.config.dnsSuffix,
        clock: ctx.clock,
        log: ctx.log,
        accounts,
        blobs,
        access: ctx.access,
        auth: {
          verifyBearer: (token, audiences) => ctx.verifyBearer(token, audiences),
          challenge: storageChallenge(ctx.loginBase, ctx.tenantId),
          dnsSuffix: ctx.config.dnsSuffix,
          port: ctx.port,
          now: () => ctx.clock.now(),
        },
        limits: { maxBlobBody: MAX_BODY, maxBlockBody: MAX_BODY, maxBlockListBody: 16 * MiB },
        record: (e) => ctx.recordDataAccess({ surface: 'blob', ...e }),
      }),
    );

    // A process run as a VM finds each account's blob endpoint in KEYLESS_STORAGE_<NAME>_BLOB_URL.
    ctx.addVmEnvironment(async () => {
      const env: Record<string, string> = {};
      for (const a of await ctx.resources.list({ typeKey: accountType })) {
        env[`KEYLESS_STORAGE_${a.name.toUpperCase()}_BLOB_URL`] = blobEndpoint(a.name, ctx.config.dnsSuffix, ctx.port);
      }
      return env;
    });

    return { close: () => unsubscribe() };
  },
};

