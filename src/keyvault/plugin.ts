import { keyVaultArmProviders } from '../arm/providers/keyvault.js';
import type { KeylessPlugin, PluginContext } from '../server/plugin.js';
import type { ArmDocument } from '../resources/index.js';
import { createKeyVaultApp } from './app.js';
import { createFastGet } from './fast-get.js';
import { vaultAudiences, vaultBaseUrl, vaultEnvName } from './names.js';
import { SecretService } from './secrets.js';
import { VaultLifecycle } from './vault-lifecycle.js';
import { VaultRegistry } from './vault-registry.js';

const SWEEP_MS = 60_000;

/**
 * Key Vault: `Microsoft.KeyVault/vaults` on ARM and the secrets data plane on `{vault}.vault.{suffix}`.
 * This file only wires; the pieces live beside it.
 */
export const keyVaultPlugin: KeylessPlugin = {
  name: 'keyvault',
  async setup(ctx: PluginContext) {
    const { config, store, clock } = ctx;
    const lifecycle = new VaultLifecycle(store, clock);
    const vaults = new VaultRegistry(store);
    const secrets = new SecretService(store, ctx.sealer, clock);

    ctx.resources.onDelete((tx, _changed, r) => lifecycle.onResourceDeleted(tx, r));
    const providers = keyVaultArmProviders({
        dnsSuffix: config.dnsSuffix,
        port: ctx.port,
        liveVaultId: (n) => lifecycle.liveVaultId(n),
        getDeleted: (n) => lifecycle.getDeleted(n),
        listDeleted: (s) => lifecycle.listDeleted(s),
        forgetDeleted: (tx, n) => lifecycle.forgetDeleted(tx, n),
        purge: (n) => lifecycle.purge(n),
    });
    for (const p of providers) ctx.addArmProvider(p);

    const app = createKeyVaultApp({
      dnsSuffix: config.dnsSuffix,
      port: ctx.port,
      log: ctx.log,
      access: ctx.access,
      vaults,
      secrets,
      auth: {
        authority: `${ctx.loginBase}/${ctx.tenantId}`,
        issuers: [`https://sts.windows.net/${ctx.tenantId}/`, `${ctx.baseUrl}/${ctx.tenantId}/v2.0`],
        verifyBearer: (t, a) => ctx.verifyBearer(t, a),
      },
      recordDataAccess: (e) => ctx.recordDataAccess(e),
    });
    await app.ready();
    const fastGet = createFastGet({
      dnsSuffix: config.dnsSuffix,
      access: ctx.access,
      vaults,
      secrets,
      cachedCaller: (t, a) => ctx.cachedBearer(t, a),
      audiences: (port) => vaultAudiences(config.dnsSuffix, ctx.port, port),
      recordDataAccess: (e) => ctx.recordDataAccess(e),
    });
    ctx.mountSurface('keyvault', (req, res) => {
      if (!fastGet(req, res)) app.routing(req, res);
    });

    ctx.addVmEnvironment(async () => {
      const env: Record<string, string> = {};
      for (const v of await ctx.resources.list({ typeKey: 'microsoft.keyvault/vaults' })) {
        env[vaultEnvName(v.name)] = `${vaultBaseUrl((v.body as ArmDocument).name, config.dnsSuffix, ctx.port)}/`;
      }
      return env;
    });

    // Retention: soft-deleted secrets and vaults past their purge date go for good.
    const timer = setInterval(() => {
      void Promise.all([secrets.sweep(), lifecycle.sweep()]).catch((e: unknown) => ctx.log.warn({ err: String(e) }, 'keyvault retention sweep failed'));
    }, SWEEP_MS);
    timer.unref();

    return {
      async close() {
        clearInterval(timer);
        await app.close();
      },
    };
  },
};
