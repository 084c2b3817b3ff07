import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import type { AccessControl } from '../core/access.js';
import { ShiftableClock, systemClock, type Clock } from '../core/clock.js';
import { Store } from '../store/index.js';
import { Directory } from '../directory/index.js';
import { ResourceService } from '../resources/index.js';
import { AudienceCatalog, SignInService } from '../signin/index.js';
import { createArmApp } from '../arm/app.js';
import { computeProvider } from '../arm/providers/compute.js';
import { managedIdentityProvider } from '../arm/providers/managed-identity.js';
import { authorizationProviders } from '../arm/providers/authorization.js';
import { checkNameAvailabilityProviders } from '../arm/providers/check-name.js';
// Workload identity federation + certificate credentials (src/federation).
import { federatedCredentialsProvider } from '../arm/providers/federated-credentials.js';
import { createFederation, workloadIssuerUrl, type WorkloadToken } from '../federation/index.js';
import { createLoginApp } from '../login/app.js';
import { createImdsHandler } from '../msi/imds.js';
import { ImdsListeners } from '../msi/listeners.js';
// App Service (Microsoft.Web/sites) and Cloud Shell identity endpoints (src/msi, docs/identity-endpoints.md).
import { webProvider } from '../arm/providers/web.js';
import { createAppServiceListener, listenAppService } from '../msi/appservice.js';
import { IdentitySecrets, SITE_HASH } from '../msi/identity-secrets.js';
import { SiteBindings } from '../msi/site-bindings.js';
import { isMsiTokenRequest, withVmMsiEndpoint } from '../msi/vm-msi.js';
// Fault injection (src/faults, docs/fault-injection.md) and IMDS's rate limits (src/msi/throttle.ts).
import { FaultRegistry, dataPlaneNames, faultsOpsRoute, resourceNames, withFaults } from '../faults/index.js';
import { ImdsThrottle } from '../msi/throttle.js';
import type { VmIdentityOptions } from '../msi/environments.js';
import { identityEnvironmentRoute, identityEnvironments } from './identity-environments.js';
import { ensurePki, type PkiMaterial } from '../pki/index.js';
import { Keyring, envMasterKeyProvider, fileMasterKeyProvider } from '../keyring/index.js';
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
import { armBearer, requireLivePrincipal } from './bearer.js';
import { bootstrap, type AdminCredential } from './bootstrap.js';
import type { KeylessConfig } from './config.js';
import { createDispatcher } from './dispatch.js';
import { allocateImdsAddress } from './imds-addresses.js';
import { isVmKey, mayChangeVms } from './vm-changes.js';
import { AuthorizationStore } from '../authz/assignments.js';
import { AuthzIndex } from '../authz/index.js';
import { createAccessControl } from '../authz/access-control.js';
import type { DenyAssignmentInput } from '../authz/deny-assignments.js';
import { denyAssignmentsOpsRoute } from '../authz/ops-route.js';
import type { DenyAssignment } from '../authz/types.js';
import { renderExplanation } from '../authz/explain.js';
import { dataKeyStore, signingKeyRepository } from './persistence.js';
import { sweepOnServerStart } from '../isolation/cleanup.js';
import { createOpsHandler } from './ops.js';
import type { Caller } from '../core/caller.js';
import type { PluginContext } from './plugin.js';
import { plugins } from './plugins.js';
import { createPortal } from '../portal/index.js';
// Audit trail, access review, metrics and log redaction (src/audit, ./metrics.ts, ./logging.ts).
import { AuditTrail, auditOpsRoute } from '../audit/index.js';
import { activityLogProvider } from '../arm/providers/activity-log.js';
import { vaultInfoFromDocument } from '../keyvault/vault-info.js';
import { KeylessMetrics } from './metrics.js';
import { withRedaction } from './logging.js';
import { startupMark } from './startup-trace.js';
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
  /** Keyless's OIDC issuer for local workloads: the `issuer` of federated identity credentials that trust it. */
  workloadIdentityIssuer: string;
  /** App Service identity endpoint (IDENTITY_ENDPOINT / MSI_ENDPOINT of every web app): http://127.0.0.1:<msi-port>/msi/token */
  appServiceIdentityEndpoint: string;
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
  vmEnvironment(vmId: string, identity?: VmIdentityOptions): Promise<Record<string, string> | undefined>;
  /** Environment variables that make a process act as a web app (Microsoft.Web/sites): what `keyless run --app` sets. */
  appEnvironment(siteId: string): Promise<Record<string, string> | undefined>;
  rotateSigningKeys(): Promise<void>;
  /** Role assignments, custom roles and deny assignments (the same service ARM's Microsoft.Authorization uses). */
  authorization: AuthorizationStore;
  /** Grants a role (by name or id) to a principal at a scope: the in-process shortcut for tests and seeds. */
  assignRole(input: { principalId: string; role: string; scope: string; principalType?: 'User' | 'Group' | 'ServicePrincipal'; condition?: string; description?: string }): Promise<{ id: string; name: string }>;
  /**
   * Creates (or, with the same `name`, replaces) a deny assignment: the admin path Azure keeps to its own
   * services. `principals: ['everyone']` with `excludePrincipals` denies all but a few.
   */
  denyAssignment(input: DenyAssignmentInput): Promise<DenyAssignment>;
  /** Removes a deny assignment by name (GUID); false when there was none. */
  deleteDenyAssignment(name: string): Promise<boolean>;
  access: AccessControl;
  /** An application + service principal with a client secret (the plaintext is returned only here). */
  createApplication(displayName: string): Promise<{ clientId: string; objectId: string; clientSecret: string }>;
  /** Registers a certificate (PEM, public part) on an application: ClientCertificateCredential then works with its key. */
  addApplicationCertificate(clientId: string, certPem: string): Promise<{ thumbprint: string; thumbprintSha256: string }>;
  /** A short-lived token from the workload issuer, for a federated identity credential's subject. */
  issueWorkloadToken(input: { subject: string; audience?: string; lifetimeSec?: number }): WorkloadToken;
  /** The audit trail: query it, or flush() to make queued events visible at once. */
  audit: AuditTrail;
  /** Prometheus metrics (served at GET /metrics). */
  metrics: KeylessMetrics;
  /** Injected faults (errors, latency, resets, clock shifts) on this replica: what `keyless fault` sets. */
  faults: FaultRegistry;
  stop(): Promise<void>;
}

/** Opens the store, builds the services, mounts every surface, and starts listening. */
export async function createKeylessServer(config: KeylessConfig, opts: { logger?: Logger; clock?: Clock } = {}): Promise<KeylessServer> {
  const log = withRedaction(opts.logger ?? pino({ level: config.logLevel, base: { svc: 'keyless' } }));
  const clock = new ShiftableClock(opts.clock);
  // Faults live in memory, per replica; their lifetimes run on real time, not on the clock they may shift.
  const faults = new FaultRegistry({ serverClock: clock, time: opts.clock ?? systemClock });
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });

  startupMark('server modules loaded');
  const store = await Store.open({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, memory: config.memory });
  startupMark('store open + migrations');
  const closers: (() => Promise<void> | void)[] = [() => store.close(), () => faults.close()];
  try {
    // KEYLESS_MASTER_KEY (base64, 32 bytes) wins: the KMS-style way to give replicas one key without a file.
    const masterKey = process.env['KEYLESS_MASTER_KEY']
      ? envMasterKeyProvider('KEYLESS_MASTER_KEY')
      : fileMasterKeyProvider(config.masterKeyFile ?? path.join(config.dataDir, 'master.key'), { warn: (m) => log.warn(m) });
    const keyring = await Keyring.open(masterKey, dataKeyStore(store));
    startupMark('keyring');
    const pki: PkiMaterial = await ensurePki({
      dir: config.tlsDir ?? path.join(config.dataDir, 'tls'),
      dnsSuffix: config.dnsSuffix,
      extraDnsNames: [config.publicHost],
    });
    for (const w of pki.warnings ?? []) log.warn({ warning: w }, 'pki');
    startupMark('pki');

    const directory = new Directory(store, clock);
    const resources = new ResourceService(store, directory, clock);
    const boot = await bootstrap(store, directory, clock, config.dataDir);
    startupMark('bootstrap');
    const tenantId = boot.tenantId;
    // Isolated-VM sessions (src/isolation) made against an earlier run of this server point at dead listeners.
    void sweepOnServerStart(tenantId, process.pid).catch((e: unknown) => log.debug({ err: String(e) }, 'isolated-VM sweep failed'));

    // Listen first (port 0 → ephemeral) so every URL handed out below names the real port.
    const httpsServer = https.createServer({ cert: pki.certPem, key: pki.keyPem, keepAlive: true });
    httpsServer.keepAliveTimeout = 65_000;
    await listen(httpsServer, config.port, config.host);
    startupMark('https listen');
    closers.push(() => closeServer(httpsServer));
    const port = (httpsServer.address() as AddressInfo).port;
    // The App Service identity endpoint: its URL goes into `endpoints`; the handler is set once the services exist.
    let appServiceHandler: (q: IncomingMessage, s: ServerResponse) => Promise<void> | void = async (_q, s) => void s.writeHead(503).end();
    const appServiceListener = await listenAppService((q, s) => appServiceHandler(q, s), config.msiPort);
    closers.push(() => appServiceListener.close());
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
      workloadIdentityIssuer: workloadIssuerUrl(base, tenantId),
      appServiceIdentityEndpoint: appServiceListener.endpoint,
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
    startupMark('signing keys');
    store.onChange((c) => {
      if (c.topic === 'dataKey' || c.topic === 'all') void keyring.reload().catch((e: unknown) => log.error({ err: String(e) }, 'data key reload failed'));
      if (c.topic === 'signingKey' || c.topic === 'all') void keys.reload().catch((e: unknown) => log.error({ err: String(e) }, 'signing key reload failed'));
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
    // Cached IMDS answers are not sign-ins: Azure's IMDS serves them without contacting Entra, and logging
    // them would put a write on the hottest path.
    signin.onSignIn((e) => {
      if (!e.cached) log.info({ signin: e }, 'sign-in');
    });
    // Audit (src/audit): sign-ins, ARM mutations and denials, data-plane decisions, written in batches off the
    // request path. Closed just before the store, after every listener has stopped.
    const audit = new AuditTrail(store, clock, { retentionDays: config.auditRetentionDays, log });
    closers.splice(1, 0, () => audit.close());
    void audit.purge().catch((e: unknown) => log.warn({ err: String(e) }, 'audit purge failed'));
    const metrics = new KeylessMetrics({ auditDropped: () => audit.dropped });
    audit.onRecord((r) => metrics.auditEvent(r.category, r.result));
    signin.onSignIn((e) => {
      if (!e.cached) audit.signIn(e);
      metrics.signIn(e);
    });
    store.onChange((c) => {
      if (c.topic === 'principal') verifier.invalidateWhere?.((claims: Record<string, unknown>) => claims['oid'] === c.key);
    });

    const authz = new AuthorizationStore(store, new AuthzIndex({ clock }), clock, async (oid) => Boolean(await directory.get(oid)), tenantId, {
      propagationDelayMs: config.authzPropagationDelaySec * 1000,
    });
    await authz.load();
    startupMark('authorization index');
    const access: AccessControl = createAccessControl({ index: authz.index, mode: config.authzMode });
    // Extension resources (role assignments) on a deleted resource are deleted with it.
    resources.onDelete((tx, changed, r) => authz.deleteAssignmentsAtScope(tx, changed, r.id));

    // App Service: a web app's secret names it (caller binding); VMs' secrets derive from a sealed server key.
    const identitySecrets = await IdentitySecrets.open(store, keyring);
    const siteBindings = new SiteBindings({
      load: async () => (await resources.list({ typeKey: 'microsoft.web/sites' })).map((r) => ({ key: r.key, hash: r.internal[SITE_HASH] as string | undefined })),
    });
    store.onChange((c) => {
      if (c.topic === 'resource' || c.topic === 'all') siteBindings.invalidate();
    });
    appServiceHandler = withFaults('appservice', faults, createAppServiceListener({
      signin,
      // App Service does not fall back to the only user-assigned identity when none is named (IMDS does).
      bind: async (_req, p) => {
        const hostKey = await siteBindings.lookup(p.secret);
        return hostKey ? { hostKey, rules: { implicitUserAssigned: false } } : undefined;
      },
    }), { clock, targetNames: async (q) => resourceNames(await siteBindings.lookup(firstHeader(q, 'x-identity-header') ?? firstHeader(q, 'secret'))) });

    // IMDS: one listener per VM on its loopback address (which also serves the VM's /msi/token: vm-msi.ts).
    const throttle = config.imdsThrottle ? new ImdsThrottle(opts.clock ?? systemClock) : undefined;
    const vmHostKey = (q: IncomingMessage) => resourceNames(imds.hostFor(q.socket.localAddress ?? '', q.socket.localPort ?? 0));
    const imds: ImdsListeners = new ImdsListeners(
      metrics.instrument('imds', withFaults('imds', faults, withVmMsiEndpoint(createImdsHandler({
        signin,
        hostFor: (a: string, p: number): string | undefined => imds.hostFor(a, p),
        getResource: (k) => resources.get(k),
        ...(throttle ? { intercept: (q: IncomingMessage, s: ServerResponse, hostKey: string) => throttle.intercept(q, s, hostKey) } : {}),
      }), { signin, hostFor: (a, p) => imds.hostFor(a, p), vmSecret: (hostKey, address) => identitySecrets.vmSecret(hostKey, address) }), {
        clock,
        // A VM's listener also serves its /msi/token (App Service / Cloud Shell protocols): faults on 'appservice' apply there.
        surfaceOf: (q) => (isMsiTokenRequest(q.url) ? 'appservice' : 'imds'),
        targetNames: vmHostKey,
      }), log, { setRequestId: false }),
      { port: config.imdsPort },
    );
    closers.push(() => imds.closeAll());
    const syncImds = async () => {
      const vms = await resources.list({ typeKey: 'microsoft.compute/virtualmachines' });
      await imds.sync(new Map(vms.filter((v) => v.internal.imdsAddress).map((v) => [v.internal.imdsAddress!, v.key])));
    };
    await syncImds();
    startupMark('imds listeners');
    // VMs created or deleted through another replica (or the CLI's seed) bind and unbind here too; other resources'
    // changes cannot (vm-changes.ts).
    let syncQueued = false;
    store.onChange((c) => {
      if (syncQueued || !(c.topic === 'all' || (c.topic === 'resource' && isVmKey(c.key)))) return;
      syncQueued = true;
      setTimeout(() => {
        syncQueued = false;
        void syncImds().catch((e: unknown) => log.warn({ err: String(e) }, 'IMDS listener sync failed'));
      }, 20);
    });

    // Federation: client assertions (federated tokens, certificates) at the token endpoint, and the workload issuer.
    const federation = createFederation({
      tenantId, baseUrl: base, tenantAliases: [config.dnsSuffix], extraOrigins: [`https://login.${config.dnsSuffix}:${port}`],
      clock, directory, resources, access, keys,
      workloadEnvironment: { AZURE_AUTHORITY_HOST: base, NODE_EXTRA_CA_CERTS: pki.caFile, REQUESTS_CA_BUNDLE: pki.bundleFile },
    });

    // Surface plugins (Key Vault, Blob …) register ARM providers and host-routed handlers here.
    const armProviders = [computeProvider({ allocateImdsAddress }), managedIdentityProvider(), federatedCredentialsProvider(), webProvider({ sealer: keyring, dnsSuffix: config.dnsSuffix }), ...authorizationProviders(authz), ...checkNameAvailabilityProviders()];
    armProviders.push(activityLogProvider({ query: (q) => audit.query(q) }));
    const surfaces: Partial<Record<'keyvault' | 'blob', (q: IncomingMessage, s: ServerResponse) => void>> = {};
    const envContributors: (() => Promise<Record<string, string>> | Record<string, string>)[] = [];
    const dataPlaneIssuers = [issuerV1(tenantId), `${base}/${tenantId}/v2.0`];
    // One Caller per verified claims object (the verifier caches and freezes those), so a cached token costs no allocation.
    const callers = new WeakMap<object, Caller>();
    const bearerCaller = (claims: Readonly<Record<string, unknown>>): Caller => {
      let caller = callers.get(claims);
      if (!caller) {
        const oid = String(claims['oid'] ?? '');
        const appId = String(claims['appid'] ?? claims['azp'] ?? '');
        caller = Object.freeze({ objectId: oid.toLowerCase(), appId, tenantId, via: 'bearer', clientName: appId, claims });
        callers.set(claims, caller);
      }
      return caller;
    };
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
      // Data planes get the caller only when the token names a principal that still exists (docs/security.md).
      verifyBearer: requireLivePrincipal(async (token, auds) => {
        const { claims } = await verifier.verify(token, { audiences: auds, issuers: dataPlaneIssuers, tenantId });
        return bearerCaller(claims);
      }, async (oid) => Boolean(await directory.get(oid))),
      cachedBearer: (token, auds) => {
        const v = verifier.verifyIfCached(token, { audiences: auds, issuers: dataPlaneIssuers, tenantId });
        if (!v) return undefined;
        const caller = bearerCaller(v.claims);
        return caller.objectId && directory.peek(caller.objectId) ? caller : undefined;
      },
      addArmProvider: (p) => armProviders.push(p),
      mountSurface: (name, handler) => (surfaces[name] = handler),
      recordDataAccess: (e) => {
        audit.dataAccess(e);
        metrics.decision(e.surface, e.allowed, e.auditOnly === true);
      },
      addVmEnvironment: (fn) => envContributors.push(fn),
    };
    for (const plugin of plugins) {
      const r = await plugin.setup(pluginCtx);
      if (r?.close) closers.push(() => r.close!());
    }
    startupMark('plugins');

    const bearer = armBearer(verifier, { audiences: armAudiences, issuers: [issuerV1(tenantId), `${base}/${tenantId}/v2.0`], tenantId, loginEndpoint: base, principalExists: async (oid) => Boolean(await directory.get(oid)) });
    const arm = createArmApp({
      tenantId,
      log,
      clock,
      store,
      directory,
      resources,
      access: metrics.countingAccess(access, 'arm'),
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
      // A VM's own path, or a group or subscription (whose deletion takes VMs with it): anything else under a provider
      // (identities, role assignments, vaults, listKeys …) cannot bind or unbind a VM, and need not list them all.
      afterMutation: (path: string) => (mayChangeVms(path) ? syncImds() : Promise.resolve()),
      onActivity: (e) => audit.activity(e),
    });
    const login = createLoginApp({
      tenantId,
      log,
      tenantAliases: [config.dnsSuffix],
      clock,
      directory,
      signin,
      authority: () => base,
      assertions: federation.assertions,
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
    startupMark('surfaces ready');
    closers.push(() => arm.close(), () => login.close());

    const vmEnvironment = async (vmId: string, identity?: VmIdentityOptions): Promise<Record<string, string> | undefined> => {
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
        // [msi] IDENTITY_* / MSI_ENDPOINT for az and the App Service / Cloud Shell protocols, when asked for.
        ...(identity ? await identityEnv.vmVariables(vmId, imdsUrl, identity) : {}),
      };
    };
    const identityEnv = identityEnvironments({
      resources,
      signin,
      secrets: identitySecrets,
      appServiceEndpoint: () => appServiceListener.endpoint,
      common: async () => {
        const env: Record<string, string> = {};
        for (const c of envContributors) Object.assign(env, await c());
        return {
          ...env,
          NODE_EXTRA_CA_CERTS: pki.caFile,
          REQUESTS_CA_BUNDLE: pki.bundleFile,
          KEYLESS_ARM_ENDPOINT: base,
          KEYLESS_ARM_AUDIENCE: endpoints.armAudience,
          KEYLESS_TENANT_ID: tenantId,
          KEYLESS_SUBSCRIPTION_ID: boot.subscriptionId,
        };
      },
    });
    const appEnvironment = (siteId: string) => identityEnv.appEnvironment(siteId);
    const health = () => ({ status: 'ok', tenantId, subscriptionId: boot.subscriptionId, authorization: access.mode, authorizationPropagationDelaySec: config.authzPropagationDelaySec, store: store.dialect, issuer: endpoints.issuer, ca: pki.caFile, caBundle: pki.bundleFile, endpoints });
    const explainAccess = (q: { principalId: string; action: string; scope: string; isDataAction: boolean }) => {
      const explanation = authz.index.explain({ principalId: q.principalId.toLowerCase(), action: q.action, scope: q.scope, isDataAction: q.isDataAction });
      return { allowed: explanation.allowed, explanation, text: renderExplanation(explanation) };
    };
    const auditRoute = auditOpsRoute({
      trail: audit,
      access,
      subscriptionId: boot.subscriptionId,
      now: () => clock.now(),
      review: {
        index: authz.index,
        identities: () => directory.list(),
        // Access policies count only on vaults that use them (RBAC vaults ignore theirs).
        accessPolicies: async () =>
          (await resources.list({ typeKey: 'microsoft.keyvault/vaults' })).map((v) => vaultInfoFromDocument(v.body)).map((i) => ({ vaultId: i.id, entries: i.rbac ? [] : i.accessPolicies })),
        usage: (q) => audit.usage(q),
      },
    });
    const ops = createOpsHandler({ health, bearer, access, resources, vmEnvironment, explainAccess, routes: [federation.opsRoute, auditRoute, identityEnvironmentRoute({ access, vmEnvironment, appEnvironment }), faultsOpsRoute({ faults, access, subscriptionId: boot.subscriptionId }), denyAssignmentsOpsRoute({ authz, subscriptionId: boot.subscriptionId })] });
    // GET /metrics is Prometheus's, unauthenticated like /health (docs/audit.md); everything else is the ops API.
    const opsOrMetrics = (q: IncomingMessage, s: ServerResponse) => (KeylessMetrics.isMetricsRequest(q) ? void metrics.serve(q, s) : void ops(q, s));
    // The web portal signs in an application and calls the surfaces above through this same listener.
    const portal = await createPortal({
      log, clock, tenantId, defaultSubscriptionId: boot.subscriptionId, directory, signin, store, sealer: keyring,
      audiences: { arm: endpoints.armAudience, vault: 'https://vault.azure.net', storage: 'https://storage.azure.com' },
      target: { bindHost: config.host, port, publicHost: config.publicHost, dnsSuffix: config.dnsSuffix, caPem: pki.caCertPem },
      onPrincipalChange: (fn) => store.onChange((c) => c.topic === 'principal' && fn(c.key)),
    });
    closers.push(() => portal.close());
    startupMark('portal');
    httpsServer.on(
      'request',
      createDispatcher({
        dnsSuffix: config.dnsSuffix,
        handlers: metrics.instrumentAll(
          {
            arm: withFaults('arm', faults, (q, s) => arm.routing(q, s), { clock }),
            login: withFaults('login', faults, (q, s) => login.routing(q, s), { clock }),
            ops: opsOrMetrics,
            portal: portal.handle,
            ...(surfaces.keyvault ? { keyvault: withFaults('keyvault', faults, surfaces.keyvault, { clock, targetNames: (q) => dataPlaneNames(q, 'vault', config.dnsSuffix) }) } : {}),
            ...(surfaces.blob ? { blob: withFaults('blob', faults, surfaces.blob, { clock, targetNames: (q) => dataPlaneNames(q, 'blob', config.dnsSuffix) }) } : {}),
          },
          log,
          // Key Vault sends its own id on every answer (and writes its hot one's headers as one array).
          { ownRequestIds: ['keyvault'] },
        ),
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
      appEnvironment,
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
      denyAssignment: async (input) => (await authz.createDenyAssignment(input, { replace: true })).deny,
      deleteDenyAssignment: (name) => authz.deleteDenyAssignment(name),
      addApplicationCertificate: (clientId, certPem) => federation.addApplicationCertificate(clientId, certPem),
      issueWorkloadToken: (input) => federation.issueWorkloadToken(input),
      audit,
      metrics,
      faults,
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

function firstHeader(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
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
