/**
 * Which managed-identity source each official client will pick in an environment, and why — the selection
 * orders of protocols.md §1.1, as code, for `keyless run --explain`. Pure: env in, explanation out.
 */
export interface ClientChoice {
  client: string;
  /** e.g. "App Service (2019-08-01)" */
  source: string;
  /** Where its token requests go, or why none do. */
  endpoint: string;
  /** The variables that decided it. */
  because: string;
  /** How a user-assigned identity can be named on that source. */
  userAssigned: string;
}

type Env = Record<string, string | undefined>;
const has = (env: Env, ...names: string[]) => names.every((n) => Boolean(env[n]));

/** @azure/identity 4.13 (msal-node 5.6): token exchange, then msal's ServiceFabric → AppService → ML → CloudShell → Arc → IMDS. */
export function jsChoice(env: Env): ClientChoice {
  const client = 'JS @azure/identity (ManagedIdentityCredential, DefaultAzureCredential)';
  if (has(env, 'AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_FEDERATED_TOKEN_FILE')) {
    return { client, source: 'workload identity (token exchange)', endpoint: `${env['AZURE_AUTHORITY_HOST'] ?? 'https://login.microsoftonline.com'}/${env['AZURE_TENANT_ID']}`, because: 'AZURE_CLIENT_ID + AZURE_TENANT_ID + AZURE_FEDERATED_TOKEN_FILE are set', userAssigned: 'the client id of the federated identity' };
  }
  if (has(env, 'IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'IDENTITY_SERVER_THUMBPRINT')) {
    return { client, source: 'Service Fabric', endpoint: env['IDENTITY_ENDPOINT']!, because: 'IDENTITY_ENDPOINT + IDENTITY_HEADER + IDENTITY_SERVER_THUMBPRINT are set', userAssigned: 'not supported' };
  }
  if (has(env, 'IDENTITY_ENDPOINT', 'IDENTITY_HEADER')) {
    return { client, source: 'App Service (2019-08-01)', endpoint: env['IDENTITY_ENDPOINT']!, because: 'IDENTITY_ENDPOINT + IDENTITY_HEADER are set (checked before MSI_ENDPOINT and IMDS)', userAssigned: 'clientId, objectId or resourceId' };
  }
  if (has(env, 'MSI_ENDPOINT', 'MSI_SECRET')) {
    return { client, source: 'Azure ML (2017-09-01)', endpoint: env['MSI_ENDPOINT']!, because: 'MSI_ENDPOINT + MSI_SECRET are set (and no IDENTITY_ENDPOINT + IDENTITY_HEADER)', userAssigned: 'clientId only; the default identity is DEFAULT_IDENTITY_CLIENT_ID' };
  }
  if (has(env, 'MSI_ENDPOINT')) {
    return { client, source: 'Cloud Shell', endpoint: env['MSI_ENDPOINT']!, because: 'MSI_ENDPOINT is set without MSI_SECRET', userAssigned: 'refused by the client: system-assigned only' };
  }
  if (has(env, 'IDENTITY_ENDPOINT', 'IMDS_ENDPOINT')) {
    return { client, source: 'Azure Arc', endpoint: env['IDENTITY_ENDPOINT']!, because: 'IDENTITY_ENDPOINT + IMDS_ENDPOINT are set', userAssigned: 'clientId, objectId or resourceId' };
  }
  return imdsFallback(client, env['AZURE_POD_IDENTITY_AUTHORITY_HOST'], 'clientId, objectId or resourceId');
}

/** azure-identity 1.13 (Debian python3-azure): IDENTITY_* first, with no fall-back to IMDS when they are incomplete. */
export function pythonChoice(env: Env): ClientChoice {
  const client = 'Python azure-identity 1.13 (ManagedIdentityCredential, DefaultAzureCredential)';
  if (has(env, 'IDENTITY_ENDPOINT')) {
    if (has(env, 'IDENTITY_HEADER')) {
      if (has(env, 'IDENTITY_SERVER_THUMBPRINT')) return { client, source: 'Service Fabric', endpoint: env['IDENTITY_ENDPOINT']!, because: 'IDENTITY_ENDPOINT + IDENTITY_HEADER + IDENTITY_SERVER_THUMBPRINT are set', userAssigned: 'not supported' };
      return { client, source: 'App Service (2019-08-01)', endpoint: env['IDENTITY_ENDPOINT']!, because: 'IDENTITY_ENDPOINT + IDENTITY_HEADER are set (checked first)', userAssigned: 'client_id, or identity_config {"object_id"|"principal_id"|"mi_res_id": …}' };
    }
    if (has(env, 'IMDS_ENDPOINT')) return { client, source: 'Azure Arc', endpoint: env['IDENTITY_ENDPOINT']!, because: 'IDENTITY_ENDPOINT + IMDS_ENDPOINT are set', userAssigned: 'not supported' };
    return { client, source: 'none', endpoint: '(no request: CredentialUnavailableError)', because: 'IDENTITY_ENDPOINT is set without IDENTITY_HEADER or IMDS_ENDPOINT, and 1.13 does not fall back to IMDS', userAssigned: '-' };
  }
  if (has(env, 'MSI_ENDPOINT', 'MSI_SECRET')) {
    return { client, source: 'Azure ML (2017-09-01)', endpoint: env['MSI_ENDPOINT']!, because: 'MSI_ENDPOINT + MSI_SECRET are set', userAssigned: 'client_id (sent as clientid)' };
  }
  if (has(env, 'MSI_ENDPOINT')) {
    return { client, source: 'Cloud Shell', endpoint: env['MSI_ENDPOINT']!, because: 'MSI_ENDPOINT is set without MSI_SECRET', userAssigned: 'client_id, or identity_config {"object_id"|"msi_res_id": …} (sent in the form body)' };
  }
  if (has(env, 'AZURE_AUTHORITY_HOST', 'AZURE_TENANT_ID', 'AZURE_FEDERATED_TOKEN_FILE')) {
    return { client, source: 'workload identity (token exchange)', endpoint: `${env['AZURE_AUTHORITY_HOST']}/${env['AZURE_TENANT_ID']}/oauth2/v2.0/token`, because: 'AZURE_AUTHORITY_HOST + AZURE_TENANT_ID + AZURE_FEDERATED_TOKEN_FILE are set', userAssigned: 'client_id or AZURE_CLIENT_ID' };
  }
  // Python strips trailing slashes from the pod-identity host; JS uses it as given.
  return imdsFallback(client, env['AZURE_POD_IDENTITY_AUTHORITY_HOST']?.replace(/\/+$/, ''), 'client_id, or identity_config {"object_id"|"msi_res_id": …}');
}

/** The last resort of both SDKs: IMDS, at the address AZURE_POD_IDENTITY_AUTHORITY_HOST gives when set. */
function imdsFallback(client: string, host: string | undefined, userAssigned: string): ClientChoice {
  return {
    client,
    source: 'IMDS',
    endpoint: `${host ?? 'http://169.254.169.254'}/metadata/identity/oauth2/token`,
    because: host ? 'no other source matched; AZURE_POD_IDENTITY_AUTHORITY_HOST moves IMDS (and turns off the probe)' : 'no other source matched',
    userAssigned,
  };
}

/** az 2.45 (msrestazure MSIAuthentication): App Service 2017, else MSI_ENDPOINT, else the hard-coded IMDS address. */
export function azChoice(env: Env): ClientChoice {
  const client = 'az 2.45 (az login --identity)';
  if (has(env, 'APPSETTING_WEBSITE_SITE_NAME')) {
    if (!has(env, 'MSI_ENDPOINT', 'MSI_SECRET')) {
      return { client, source: 'none', endpoint: '(fails: MSI_ENDPOINT / MSI_SECRET missing)', because: 'APPSETTING_WEBSITE_SITE_NAME selects App Service 2017, which needs MSI_ENDPOINT + MSI_SECRET', userAssigned: '-' };
    }
    return { client, source: 'App Service (2017-09-01)', endpoint: `${env['MSI_ENDPOINT']}/`, because: 'APPSETTING_WEBSITE_SITE_NAME is set (MSI_ENDPOINT + MSI_SECRET)', userAssigned: '-u <client id> only (sent as clientid)' };
  }
  if (has(env, 'MSI_ENDPOINT')) {
    return { client, source: 'Cloud Shell (POST)', endpoint: env['MSI_ENDPOINT']!, because: 'MSI_ENDPOINT is set (IDENTITY_* and AZURE_POD_IDENTITY_AUTHORITY_HOST are ignored by az)', userAssigned: '-u <client id | object id | resource id>' };
  }
  return {
    client,
    source: 'IMDS (hard-coded)',
    endpoint: 'http://169.254.169.254/metadata/identity/oauth2/token',
    because: 'no MSI_ENDPOINT: az ignores IDENTITY_* and AZURE_POD_IDENTITY_AUTHORITY_HOST, so it reaches Keyless only in an isolated VM (network namespace); pass --az to add MSI_ENDPOINT',
    userAssigned: '-u <client id | object id | resource id>',
  };
}

export function explainClients(env: Env): ClientChoice[] {
  return [jsChoice(env), pythonChoice(env), azChoice(env)];
}

export function renderChoices(choices: ClientChoice[]): string {
  return choices
    .map((c) => `  ${c.client}\n    → ${c.source} at ${c.endpoint}\n      because ${c.because}\n      user-assigned: ${c.userAssigned}`)
    .join('\n');
}
