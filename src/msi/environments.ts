import { KeylessError } from '../core/errors.js';
import { MSI_TOKEN_PATH } from './appservice.js';

/** Which identity protocol the SDKs in a `keyless run --vm` process are steered to. */
export const VM_IDENTITY_SOURCES = ['imds', 'app-service', 'cloud-shell', 'azure-ml'] as const;
export type VmIdentitySource = (typeof VM_IDENTITY_SOURCES)[number];

export interface VmIdentityOptions {
  /** Default: 'app-service' with `az`, else 'imds'. */
  source?: VmIdentitySource | undefined;
  /** Also make az 2.45 (`az login --identity`) reach the VM: it reads only MSI_ENDPOINT (or 169.254.169.254). */
  az?: boolean | undefined;
}

export function resolveVmSource(o: VmIdentityOptions): VmIdentitySource {
  const source = o.source ?? (o.az ? 'app-service' : 'imds');
  if (!VM_IDENTITY_SOURCES.includes(source)) {
    throw new KeylessError(400, 'InvalidParameter', `Unknown identity source '${String(source)}'; use one of ${VM_IDENTITY_SOURCES.join(', ')}.`);
  }
  if (o.az && source === 'imds') {
    // az reads only MSI_ENDPOINT, and MSI_ENDPOINT outranks IMDS in both SDKs: they would leave IMDS anyway.
    throw new KeylessError(
      400,
      'InvalidParameter',
      "az needs MSI_ENDPOINT, which switches the JS and Python SDKs from IMDS to Cloud Shell; use source 'app-service' (the default with az), which both SDKs prefer over MSI_ENDPOINT.",
    );
  }
  return source;
}

/**
 * The variables that point a process at a VM's identity endpoints (all served on the VM's own listener,
 * `imdsBase`), beyond AZURE_POD_IDENTITY_AUTHORITY_HOST which is always set:
 *   app-service  IDENTITY_ENDPOINT + IDENTITY_HEADER      JS and Python take it before MSI_ENDPOINT and IMDS; every selector works
 *   cloud-shell  MSI_ENDPOINT                             JS refuses user-assigned ids here (system-assigned only)
 *   azure-ml     MSI_ENDPOINT + MSI_SECRET (+ DEFAULT_IDENTITY_CLIENT_ID, which JS sends for the default identity)
 *   az           MSI_ENDPOINT as well: az 2.45 ignores IDENTITY_* and AZURE_POD_IDENTITY_AUTHORITY_HOST
 */
export function vmIdentityVariables(input: {
  imdsBase: string;
  secret: string;
  options: VmIdentityOptions;
  /** Client id of the identity a request without a selector gets (system-assigned, else the only user-assigned one). */
  defaultClientId?: string | undefined;
}): Record<string, string> {
  const source = resolveVmSource(input.options);
  const endpoint = `${input.imdsBase}${MSI_TOKEN_PATH}`;
  const env: Record<string, string> = { AZURE_POD_IDENTITY_AUTHORITY_HOST: input.imdsBase };
  if (source === 'app-service') Object.assign(env, { IDENTITY_ENDPOINT: endpoint, IDENTITY_HEADER: input.secret });
  if (source === 'cloud-shell' || input.options.az) env['MSI_ENDPOINT'] = endpoint;
  if (source === 'azure-ml') {
    Object.assign(env, { MSI_ENDPOINT: endpoint, MSI_SECRET: input.secret });
    if (input.defaultClientId) env['DEFAULT_IDENTITY_CLIENT_ID'] = input.defaultClientId;
  }
  return env;
}

/**
 * What App Service sets in a site's processes (Linux): the 2019 pair the SDKs use, the 2017 pair (same
 * endpoint and secret) az uses because APPSETTING_WEBSITE_SITE_NAME is set, and the site's names.
 */
export function siteIdentityVariables(input: { endpoint: string; secret: string; siteName: string; hostName: string; resourceGroup: string }): Record<string, string> {
  return {
    IDENTITY_ENDPOINT: input.endpoint,
    IDENTITY_HEADER: input.secret,
    MSI_ENDPOINT: input.endpoint,
    MSI_SECRET: input.secret,
    WEBSITE_SITE_NAME: input.siteName,
    APPSETTING_WEBSITE_SITE_NAME: input.siteName,
    WEBSITE_HOSTNAME: input.hostName,
    WEBSITE_RESOURCE_GROUP: input.resourceGroup,
  };
}
