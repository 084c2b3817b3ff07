import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import type { AccessControl } from '../core/access.js';
import { ShiftableClock, type Clock } from '../core/clock.js';
import { Store } from '../store/index.js';
import { Directory } from '../directory/index.js';
import { ResourceService } from '../resources/index.js';
import { AudienceCatalog, SignInService } from '../signin/index.js';
import { createArmApp } from '../arm/app.js';
import { computeProvider } from '../arm/providers/compute.js';
import { managedIdentityProvider } from '../arm/providers/managed-identity.js';
import { authorizationProviders } from '../arm/providers/authorization.js';
import { createLoginApp } from '../login/app.js';
import { createImdsHandler } from '../msi/imds.js';
import { ImdsListeners } from '../msi/listeners.js';
import { ensurePki, type PkiMaterial } from '../pki/index.js';
import { Keyring, fileMasterKeyProvider } from '../keyring/index.js';
import {
  SigningKeys,
  TokenIssuer,
  TokenVerifier,
  openIdConfigurationV1,
  openIdConfigurationV2,
  adfsConfiguration,
  instanceDiscovery,
  type SigningKeyRecord,
} from '../tokens/index.js';
import { armBearer } from './bearer.js';
import { bootstrap, type AdminCredential } from './bootstrap.js';
import type { KeylessConfig } from './config.js';
import { createDispatcher } from './dispatch.js';
import { allocateImdsAddress } from './imds-addresses.js';
import { AuthorizationStore } from '../authz/assignments.js';
import { AuthzIndex } from '../authz/index.js';
import { createAccessControl } from '../authz/access-control.js';
import { dataKeyStore, signingKeyRepository } from './persistence.js';
import { createOpsHandler } from './ops.js';
import type { PluginContext } from './plugin.js';
import { plugins } from './plugins.js';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface KeylessEndpoints {
  /** ARM (resource manager) base URL, no trailing slash. */
  resourceManager: string;
  /** Entra-style authority host, no trailing slash; tenants hang below it. */
  authorityHost: string;
  /** `{authorityHost}/{tenant}` */
  authority: string;
  openIdConfiguration: string;
  jwksUri: string;
  /** Issuer of managed-identity (v1) tokens. */
  issuer: string;
  /** Audience to request for ARM, as `/metadata/endpoints` advertises it. */
  armAudience: string;
}

export interface KeylessServer {
  config: KeylessConfig;
  tenantId: string;
  subscriptionId: string;
  admin: AdminCredential;
  adminFile: string;
  caFile: string;
  caBundleFile: string;
  endpoints: KeylessEndpoints;
  authzMode: string;
  store: Store;
  clock: ShiftableClock;
  /** http://127.77.x.y:port of a VM's IMDS, by VM resource id. */
  imdsEndpoint(vmId: string): string | undefined;
  /** Environment variables that make a process act as the VM (what `keyless run --vm` sets). */
  vmEnvironment(vmId: string): Promise<Record<string, string> | undefined>;
  rotateSigningKeys(): Promise<void>;
  /** Role assignments, custom roles and deny assignments (the same service ARM's Microsoft.Authorization uses). */
  authorization: AuthorizationStore;
  /** Grants a role (by name or id) to a principal at a scope: the in-process shortcut for tests and seeds. */
  assignRole(input: { principalId: string; role: string; scope: string; principalType?: 'User' | 'Group' | 'ServicePrincipal'; condition?: string; description?: string }): Promise<{ id: string; name: string }>;
  access: AccessControl;
  /** An application + service principal with a client secret (the plaintext is returned only here). */
  createApplication(displayName: string): Promise<{ clientId: string; objectId: string; clientSecret: string }>;
  stop(): Promise<void>;
}

/** Opens the store, builds the services, mounts every surface, and starts listening. */
export async function createKeylessServer(config: KeylessConfig, opts: { logger?: Logger; clock?: Clock } = {}): Promise<KeylessServer> {
  const log = opts.logger ?? pino({ level: config.logLevel, base: { svc: 'keyless' } });
  const clock = new ShiftableClock(opts.clock);
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });

  const store = await Store.open({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, memory: config.memory });
  const closers: (() => Promise<void> | void)[] = [() => store.close()];
  try {
    const keyring = await Keyring.open(fileMasterKeyProvider(path.join(config.dataDir, 'master.key'), { warn: (m) => log.warn(m) }), dataKeyStore(store));
    const pki: PkiMaterial = await ensurePki({
      dir: config.tlsDir ?? path.join(config.dataDir, 'tls'),
      dnsSuffix: config.dnsSuffix,
      extraDnsNames: [config.publicHost],
    });
    for (const w of pki.warnings ?? []) log.warn({ warning: w }, 'pki');

    const directory = new Directory(store, clock);
    const resources = new ResourceService(store, directory, clock);
    const boot = await bootstrap(store, directory, clock, config.dataDir);
    const tenantId = boot.tenantId;

    // Listen first (port 0 → ephemeral) so every URL handed out below names the real port.
    const httpsServer = https.createServer({ cert: pki.certPem, key: pki.keyPem, keepAlive: true });
    httpsServer.keepAliveTimeout = 65_000;
    await listen(httpsServer, config.port, config.host);
    closers.push(() => closeServer(httpsServer));
    const port = (httpsServer.address() as AddressInfo).port;
    // `*.localhost` names resolve to ::1 first (libnss-myhostname, systemd-resolved): answer there too.
    if (config.host === '127.0.0.1') {
      const v6 = https.createServer({ cert: pki.certPem, key: pki.keyPem, keepAlive: true });
      try {
        await listen(v6, port, '::1');
        v6.on('request', (q, r) => httpsServer.emit('request', q, r));
        closers.push(() => closeServer(v6));
      } catch (e) {
        log.debug({ err: String(e) }, 'IPv6 loopback not available; serving 127.0.0.1 only');
      }
    }
    const base = `https://${config.publicHost}:${port}`;
    const issuerV1 = (tid: string) => `https://sts.windows.net/${tid}/`;
    const endpoints: KeylessEndpoints = {
      resourceManager: base,
      authorityHost: base,
      authority: `${base}/${tenantId}`,
      openIdConfiguration: `${base}/${tenantId}/v2.0/.well-known/openid-configuration`,
      jwksUri: `${base}/${tenantId}/discovery/v2.0/keys`,
      issuer: issuerV1(tenantId),
      armAudience: `https://management.${config.dnsSuffix}/`,
    };
    const armAudiences = [
      endpoints.armAudience,
      `https://management.${config.dnsSuffix}:${port}/`,
      `${base}/`,
      `https://127.0.0.1:${port}/`,
      `https://localhost:${port}/`,
      'https://management.azure.com/',
      'https://management.core.windows.net/',
    ];

    const keys = await SigningKeys.open({
      repo: signingKeyRepository<SigningKeyRecord>(store),
      sealer: keyring,
      clock,
      maxTokenLifetimeSec: Math.max(config.tokenLifetimeSec, config.appTokenLifetimeSec),
    });
    store.onChange((c) => {
      if (c.topic === 'signingKey') void keys.reload().catch((e: unknown) => log.error({ err: String(e) }, 'signing key reload failed'));
    });
    const issuer = new TokenIssuer(keys, clock, { issuerV1, issuerV2: (tid: string) => `${base}/${tid}/v2.0` });
    const verifier = new TokenVerifier(keys, clock);
    const audiences = new AudienceCatalog({ ownEndpoints: [...armAudiences, base], dnsSuffix: config.dnsSuffix });
    const signin = new SignInService({
      store,
      directory,
      resources,
      issuer,
      clock,
      tenantId,
      audiences,
      managedIdentityLifetimeSec: config.tokenLifetimeSec,
      appTokenLifetimeSec: config.appTokenLifetimeSec,
    });
    signin.onSignIn((e) => log.info({ signin: { ...e } }, 'sign-in'));
    store.onChange((c) => {
      if (c.topic === 'principal') verifier.invalidateWhere?.((claims: Record<string, unknown>) => claims['oid'] === c.key);
    });

    const authz = new AuthorizationStore(store, new AuthzIndex(), clock, async (oid) => Boolean(await directory.get(oid)), tenantId);
    await authz.load();
    const access: AccessControl = createAccessControl({ index: authz.index, mode: config.authzMode });
    // Extension resources (role assignments) on a deleted resource are deleted with it.
    resources.onDelete((tx, changed, r) => authz.deleteAssignmentsAtScope(tx, changed, r.id));

    // IMDS: one listener per VM on its loopback address.
    const imds: ImdsListeners = new ImdsListeners(
      createImdsHandler({
        signin,
        hostFor: (a: string, p: number): string | undefined => imds.hostFor(a, p),
        getResource: (k) => resources.get(k),
      }),
      { port: config.imdsPort },
    );
    closers.push(() => imds.closeAll());
    const syncImds = async () => {
      const vms = await resources.list({ typeKey: 'microsoft.compute/virtualmachines' });
      await imds.sync(new Map(vms.filter((v) => v.internal.imdsAddress).map((v) => [v.internal.imdsAddress!, v.key])));
    };
    await syncImds();

    // Surface plugins (Key Vault, Blob …) register ARM providers and host-routed handlers here.
    const armProviders = [computeProvider({ allocateImdsAddress }), managedIdentityProvider(), ...authorizationProviders(authz)];
    const surfaces: Partial<Record<'keyvault' | 'blob', (q: IncomingMessage, s: ServerResponse) => void>> = {};
    const envContributors: (() => Promise<Record<string, string>> | Record<string, string>)[] = [];
    const pluginCtx: PluginContext = {
      config,
      log,
      clock,
      store,
      sealer: keyring,
      directory,
      resources,
      access,
      tenantId,
      subscriptionId: boot.subscriptionId,
      baseUrl: base,
      port,
      loginBase: base,
      verifyBearer: async (token, auds) => {
        const { claims } = await verifier.verify(token, { audiences: auds, issuers: [issuerV1(tenantId), `${base}/${tenantId}/v2.0`], tenantId });
        const oid = String(claims['oid'] ?? '');
        const appId = String(claims['appid'] ?? claims['azp'] ?? '');
        return { objectId: oid.toLowerCase(), appId, tenantId, via: 'bearer', clientName: appId, claims };
      },
      addArmProvider: (p) => armProviders.push(p),
      mountSurface: (name, handler) => (surfaces[name] = handler),
      recordDataAccess: (e) => log.info({ dataAccess: e }, 'data access'),
      addVmEnvironment: (fn) => envContributors.push(fn),
    };
    for (const plugin of plugins) {
      const r = await plugin.setup(pluginCtx);
      if (r?.close) closers.push(() => r.close!());
    }

    const bearer = armBearer(verifier, { audiences: armAudiences, issuers: [issuerV1(tenantId), `${base}/${tenantId}/v2.0`], tenantId, loginEndpoint: base });
    const arm = createArmApp({
      tenantId,
      log,
      clock,
      store,
      directory,
      resources,
      access,
      bearer,
      endpoints: {
        resourceManager: base,
        login: base,
        audiences: [endpoints.armAudience],
        keyVaultDnsSuffix: `.vault.${config.dnsSuffix}`,
        storageSuffix: config.dnsSuffix,
        portal: `${base}/portal`,
      },
      providers: armProviders,
      afterMutation: syncImds,
    });
    const login = createLoginApp({
      tenantId,
      log,
      tenantAliases: [config.dnsSuffix],
      clock,
      directory,
      signin,
      authority: () => base,
      documents: {
        v2: (tenant) => openIdConfigurationV2({ authorityBase: base, tenant, issuer: `${base}/${tenantId}/v2.0` }),
        v1: (tenant) => openIdConfigurationV1({ authorityBase: base, tenant, issuer: issuerV1(tenantId) }),
        adfs: () => adfsConfiguration({ authorityBase: base, issuer: `${base}/adfs` }),
        instance: () => instanceDiscovery({ authorityBase: base, tenant: tenantId }),
        jwks: () => keys.jwks(),
      },
    });
    await arm.ready();
    await login.ready();
    closers.push(() => arm.close(), () => login.close());

    const vmEnvironment = async (vmId: string): Promise<Record<string, string> | undefined> => {
      const imdsUrl = imds.endpointFor(vmId.toLowerCase());
      if (!imdsUrl) return undefined;
      const extra: Record<string, string> = {};
      for (const c of envContributors) Object.assign(extra, await c());
      return {
        ...extra,
        // msal-node and azure-identity (Python) send IMDS requests here instead of 169.254.169.254.
        AZURE_POD_IDENTITY_AUTHORITY_HOST: imdsUrl,
        NODE_EXTRA_CA_CERTS: pki.caFile,
        REQUESTS_CA_BUNDLE: pki.bundleFile,
        KEYLESS_VM_ID: vmId,
        KEYLESS_ARM_ENDPOINT: base,
        KEYLESS_ARM_AUDIENCE: endpoints.armAudience,
        KEYLESS_TENANT_ID: tenantId,
        KEYLESS_SUBSCRIPTION_ID: boot.subscriptionId,
      };
    };
    const health = () => ({ status: 'ok', tenantId, subscriptionId: boot.subscriptionId, authorization: access.mode, store: store.dialect, issuer: endpoints.issuer, ca: pki.caFile, caBundle: pki.bundleFile, endpoints });
    const ops = createOpsHandler({ health, bearer, access, resources, vmEnvironment });
    httpsServer.on(
      'request',
      createDispatcher({
        dnsSuffix: config.dnsSuffix,
        handlers: { arm: (q, s) => arm.routing(q, s), login: (q, s) => login.routing(q, s), ops: (q, s) => void ops(q, s), ...surfaces },
      }),
    );

    return {
      config,
      tenantId,
      subscriptionId: boot.subscriptionId,
      admin: boot.admin,
      adminFile: boot.adminFile,
      caFile: pki.caFile,
      caBundleFile: pki.bundleFile,
      endpoints,
      authzMode: access.mode,
      store,
      clock,
      imdsEndpoint: (vmId) => imds.endpointFor(vmId.toLowerCase()),
      vmEnvironment,
      rotateSigningKeys: () => keys.rotate(),
      authorization: authz,
      access,
      createApplication: async (displayName) => {
        const { principal, secret } = await directory.createApplication({ tenantId, displayName });
        return { clientId: principal.appId, objectId: principal.objectId, clientSecret: secret };
      },
      assignRole: async (input) => {
        const { assignment } = await authz.createAssignment({
          scope: input.scope,
          roleDefinitionId: input.role,
          principalId: input.principalId,
          principalType: input.principalType ?? 'ServicePrincipal',
          condition: input.condition,
          description: input.description,
        });
        return { id: assignment.id, name: assignment.name };
      },
      stop: () => runClosers(closers),
    };
  } catch (e) {
    await runClosers(closers);
    throw e;
  }
}

async function runClosers(closers: (() => Promise<void> | void)[]): Promise<void> {
  for (const c of closers.reverse()) {
    try {
      await c();
    } catch {
      // Shutting down: keep closing the rest.
    }
  }
  closers.length = 0;
}

function listen(server: https.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: https.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
