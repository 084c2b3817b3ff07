import type { AccessControl } from '../core/access.js';
import { KeylessError } from '../core/errors.js';
import type { ResourceService } from '../resources/index.js';
import type { SignInService } from '../signin/index.js';
import type { IdentitySecrets } from '../msi/identity-secrets.js';
import { siteIdentityVariables, vmIdentityVariables, VM_IDENTITY_SOURCES, type VmIdentityOptions, type VmIdentitySource } from '../msi/environments.js';
import type { OpsRoute } from './ops.js';

const SITE_TYPE = 'microsoft.web/sites';

/**
 * The environments that make a process act as a VM through App Service / Cloud Shell variables, or as a
 * web app (Microsoft.Web/sites): what `keyless run|env --vm NAME --az` and `--app NAME` set.
 */
export function identityEnvironments(deps: {
  resources: ResourceService;
  signin: Pick<SignInService, 'selectIdentity'>;
  secrets: IdentitySecrets;
  /** http://127.0.0.1:<msi-port>/msi/token */
  appServiceEndpoint(): string;
  /** CA trust, ARM endpoints and plugin extras: what every process run as a Keyless resource gets. */
  common(): Promise<Record<string, string>>;
}) {
  return {
    /** The identity variables for a VM whose IMDS listener is `imdsUrl` (http://127.77.x.y:port). */
    async vmVariables(vmId: string, imdsUrl: string, options: VmIdentityOptions): Promise<Record<string, string>> {
      const address = new URL(imdsUrl).hostname;
      // JS's Azure ML mode names the default identity by DEFAULT_IDENTITY_CLIENT_ID, as Azure ML sets it.
      const defaultClientId = options.source === 'azure-ml' ? await deps.signin.selectIdentity(vmId.toLowerCase(), {}).then((p) => p.appId, () => undefined) : undefined;
      return vmIdentityVariables({ imdsBase: imdsUrl, secret: deps.secrets.vmSecret(vmId, address), options, defaultClientId });
    },

    async appEnvironment(siteId: string): Promise<Record<string, string> | undefined> {
      const site = await deps.resources.get(siteId);
      if (!site || site.typeKey !== SITE_TYPE) return undefined;
      const secret = deps.secrets.siteSecret(site);
      if (!secret) throw new KeylessError(409, 'Conflict', `The site '${site.id}' has no identity endpoint secret; recreate it.`);
      return {
        ...(await deps.common()),
        ...siteIdentityVariables({
          endpoint: deps.appServiceEndpoint(),
          secret,
          siteName: site.name,
          hostName: String(site.body.properties?.['defaultHostName'] ?? ''),
          resourceGroup: site.id.split('/')[4] ?? '',
        }),
        KEYLESS_APP_ID: site.id,
      };
    },
  };
}

/**
 * `GET /keyless/v1/identity-environment?id=<VM or site id>[&source=imds|app-service|cloud-shell|azure-ml][&az=true]`
 * on the ops surface. A VM's environment needs the read permission `keyless run --vm` already needs; a site's
 * carries its identity secret, so it needs what listing a site's app settings needs in Azure.
 */
export function identityEnvironmentRoute(deps: {
  access: AccessControl;
  vmEnvironment(vmId: string, options: VmIdentityOptions): Promise<Record<string, string> | undefined>;
  appEnvironment(siteId: string): Promise<Record<string, string> | undefined>;
}): OpsRoute {
  return async (req, ctx) => {
    if (ctx.path !== '/keyless/v1/identity-environment' || req.method !== 'GET') return undefined;
    const caller = await ctx.authenticate();
    const id = ctx.query.get('id');
    if (!id) throw new KeylessError(400, 'BadRequest', "query parameter 'id' (a VM's or a site's resource id) is required");
    const isSite = /\/providers\/microsoft\.web\/sites\/[^/]+$/i.test(id);
    const action = isSite ? 'Microsoft.Web/sites/config/list/action' : 'Microsoft.Compute/virtualMachines/read';
    const decision = deps.access.check({ principalId: caller.objectId, action, isDataAction: false, scope: id });
    if (!decision.allowed) throw new KeylessError(403, 'AuthorizationFailed', `The client '${caller.clientName}' may not perform '${action}' on '${id}': ${decision.summary}`);
    if (isSite) {
      const env = await deps.appEnvironment(id);
      if (!env) throw new KeylessError(404, 'ResourceNotFound', `No web app '${id}'.`);
      return { status: 200, body: { id, kind: 'app', environment: env } };
    }
    const source = ctx.query.get('source') || undefined;
    if (source !== undefined && !(VM_IDENTITY_SOURCES as readonly string[]).includes(source)) {
      throw new KeylessError(400, 'BadRequest', `Unknown identity source '${source}'; use one of ${VM_IDENTITY_SOURCES.join(', ')}.`);
    }
    const az = ['1', 'true', 'yes'].includes((ctx.query.get('az') ?? '').toLowerCase());
    let env: Record<string, string> | undefined;
    try {
      env = await deps.vmEnvironment(id, { source: source as VmIdentitySource | undefined, az });
    } catch (e) {
      if (e instanceof KeylessError && e.code === 'InvalidParameter') throw new KeylessError(400, 'BadRequest', e.message);
      throw e;
    }
    if (!env) throw new KeylessError(404, 'ResourceNotFound', `No virtual machine '${id}' is running an IMDS endpoint.`);
    return { status: 200, body: { id, kind: 'vm', environment: env } };
  };
}
