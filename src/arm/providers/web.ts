import type { ProviderHandler } from '../context.js';
import { armError } from '../errors.js';
import { newSiteSecret, type SecretSealer } from '../../msi/identity-secrets.js';
import { checkObject } from './validate.js';
import { trackedHandlers } from './tracked.js';

const TYPE = 'Microsoft.Web/sites';

export interface WebOptions {
  /** Seals each site's identity-endpoint secret at rest. */
  sealer: SecretSealer;
  /** `<site>.azurewebsites.<suffix>` stands in for `<site>.azurewebsites.net`. */
  dnsSuffix: string;
}

/**
 * Microsoft.Web/sites: just enough of a web app to host managed identities (the same `identity` semantics
 * as a VM) and answer the App Service identity protocol. Each site gets a random secret when it is created —
 * its IDENTITY_HEADER / MSI_SECRET — kept in the resource's internal state, never in an ARM body.
 */
export function webProvider(opts: WebOptions): ProviderHandler {
  const hostName = (name: string) => `${name.toLowerCase()}.azurewebsites.${opts.dnsSuffix}`;
  const base = trackedHandlers({
    type: TYPE,
    // App Service: 2-60 letters, digits and hyphens, neither first nor last a hyphen (it becomes a DNS label).
    nameRule: /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,58}[a-zA-Z0-9])?$/,
    nameHint: 'Site names must be 2-60 characters of letters, digits and hyphens, and cannot start or end with a hyphen.',
    supportsIdentity: true,
    computeProperties(input, _current, id) {
      const name = id.split('/').pop()!;
      const host = hostName(name);
      return {
        name,
        state: 'Running',
        enabled: true,
        defaultHostName: host,
        hostNames: [host],
        enabledHostNames: [host, `${name.toLowerCase()}.scm.azurewebsites.${opts.dnsSuffix}`],
        httpsOnly: input['httpsOnly'] === true,
        resourceGroup: id.split('/')[4] ?? '',
      };
    },
    async onCreate(_tx, internal, req) {
      Object.assign(internal, newSiteSecret(opts.sealer, req.route.id.toLowerCase()).internal);
    },
  });

  return {
    ...base,
    async put(req) {
      const name = req.route.name!;
      // Site names are global in Azure (they are DNS names): a second site of the same name is a conflict.
      const same = (await req.deps.resources.list({ typeKey: TYPE.toLowerCase() })).find((s) => s.name.toLowerCase() === name.toLowerCase() && s.key !== req.route.id.toLowerCase());
      if (same) throw armError(409, 'Conflict', `Website with given name ${name} already exists.`);
      const body = checkObject(req.body);
      // ARM defaults a site's kind to "app" (a web app, as opposed to "functionapp" and friends).
      return base.put({ ...req, body: { ...body, kind: body['kind'] ?? 'app' } });
    },
  };
}
