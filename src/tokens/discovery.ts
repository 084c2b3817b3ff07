import type { PublicJwk } from './keys.js';

/**
 * Discovery documents as Entra serves them (protocols.md §2.10, clients.md §1.4), with every endpoint on
 * Keyless's own `authorityBase` (scheme://host[:port], no trailing slash). msal-node requires
 * authorization_endpoint, token_endpoint, issuer and jwks_uri, and checks that `issuer` shares scheme, host and
 * port with the authority — so for msal clients the issuer passed here should be on authorityBase too.
 */
export interface DiscoveryOptions {
  /** e.g. `https://127.0.0.1:8443`. */
  authorityBase: string;
  /** Tenant path segment as requested: a GUID, a domain, or `common` / `organizations`. */
  tenant: string;
  /** The `iss` tokens from this authority carry. For `common`, Entra publishes the `{tenantid}` template. */
  issuer: string;
  /** Default `microsoftonline.com`. */
  cloudInstanceName?: string;
  /** Default `graph.microsoft.com`. */
  msgraphHost?: string;
  /** Default `graph.windows.net`. */
  cloudGraphHostName?: string;
  /** Default `NA`. */
  tenantRegionScope?: string;
}

const trimBase = (base: string): string => base.replace(/\/+$/, '');

const AUTH_METHODS = ['client_secret_post', 'private_key_jwt', 'client_secret_basic'];

/** `GET /{tenant}/v2.0/.well-known/openid-configuration`. */
export function openIdConfigurationV2(opts: DiscoveryOptions): Record<string, unknown> {
  const base = `${trimBase(opts.authorityBase)}/${opts.tenant}`;
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: opts.issuer,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${trimBase(opts.authorityBase)}/oidc/userinfo`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: [
      'sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud',
      'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email',
    ],
    kerberos_endpoint: `${base}/kerberos`,
    ...cloudFields(opts),
  };
}

/** `GET /{tenant}/.well-known/openid-configuration`: v1 endpoints, keys at `/common/discovery/keys`. */
export function openIdConfigurationV1(opts: DiscoveryOptions): Record<string, unknown> {
  const root = trimBase(opts.authorityBase);
  const base = `${root}/${opts.tenant}`;
  return {
    token_endpoint: `${base}/oauth2/token`,
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    jwks_uri: `${root}/common/discovery/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'token id_token', 'token'],
    scopes_supported: ['openid'],
    issuer: opts.issuer,
    microsoft_multi_refresh_token: true,
    authorization_endpoint: `${base}/oauth2/authorize`,
    device_authorization_endpoint: `${base}/oauth2/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/logout`,
    claims_supported: [
      'sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud',
      'exp', 'iat', 'auth_time', 'acr', 'amr', 'nonce', 'email', 'given_name', 'family_name', 'nickname',
    ],
    check_session_iframe: `${base}/oauth2/checksession`,
    userinfo_endpoint: `${base}/openid/userinfo`,
    kerberos_endpoint: `${base}/kerberos`,
    ...cloudFields(opts),
  };
}

function cloudFields(opts: DiscoveryOptions): Record<string, string> {
  return {
    tenant_region_scope: opts.tenantRegionScope ?? 'NA',
    cloud_instance_name: opts.cloudInstanceName ?? 'microsoftonline.com',
    cloud_graph_host_name: opts.cloudGraphHostName ?? 'graph.windows.net',
    msgraph_host: opts.msgraphHost ?? 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  };
}

export interface AdfsDiscoveryOptions {
  authorityBase: string;
  /** Default `{authorityBase}/adfs`, as AD FS publishes. */
  issuer?: string;
}

/**
 * `GET /adfs/.well-known/openid-configuration`: the route az 2.45 can use without instance discovery
 * (clients.md §1.4). AD FS itself writes its endpoints with a trailing slash; az posts to the endpoint as written,
 * so it is published without one to match the route Keyless mounts (`/adfs/oauth2/token`, as observed).
 */
export function adfsConfiguration(opts: AdfsDiscoveryOptions): Record<string, unknown> {
  const adfs = `${trimBase(opts.authorityBase)}/adfs`;
  return {
    issuer: opts.issuer ?? adfs,
    authorization_endpoint: `${adfs}/oauth2/authorize`,
    token_endpoint: `${adfs}/oauth2/token`,
    jwks_uri: `${adfs}/discovery/keys`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic', 'private_key_jwt'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token', 'code token', 'code id_token token'],
    response_modes_supported: ['query', 'fragment', 'form_post'],
    grant_types_supported: ['client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
    subject_types_supported: ['pairwise'],
    scopes_supported: ['openid', 'profile', 'email', 'allatclaims', 'logon_cert', 'aza', 'vpn_cert', 'winhello_cert', 'user_impersonation'],
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_signing_alg_values_supported: ['RS256'],
    access_token_issuer: opts.issuer ?? adfs,
    claims_supported: ['aud', 'iss', 'iat', 'exp', 'auth_time', 'nonce', 'at_hash', 'c_hash', 'sub', 'upn', 'unique_name', 'pwd_url', 'pwd_exp', 'mfa_auth_time', 'sid', 'nbf'],
    microsoft_multi_refresh_token: true,
    userinfo_endpoint: `${adfs}/userinfo`,
    capabilities: [],
    end_session_endpoint: `${adfs}/oauth2/logout`,
    frontchannel_logout_supported: true,
    frontchannel_logout_session_supported: true,
    device_authorization_endpoint: `${adfs}/oauth2/devicecode`,
  };
}

export interface InstanceDiscoveryOptions {
  /** Where the tenant documents live, e.g. `https://127.0.0.1:8443`. Python msal drops the port from the request's
   * authorization_endpoint, so this must come from Keyless's config, not from the request. */
  authorityBase: string;
  tenant: string;
}

const MICROSOFT_ALIASES = ['login.microsoftonline.com', 'login.windows.net', 'login.microsoft.com', 'sts.windows.net'];

/**
 * `GET /common/discovery/instance`. msal-node needs `tenant_discovery_endpoint` and `metadata`, and looks the
 * authority host up in the aliases; Keyless's host gets its own entry so it is never mistaken for (or cached as)
 * a Microsoft host, unless Keyless *is* serving login.microsoftonline.com.
 */
export function instanceDiscovery(opts: InstanceDiscoveryOptions): Record<string, unknown> {
  const base = trimBase(opts.authorityBase);
  const host = new URL(base).host;
  const metadata: Array<Record<string, unknown>> = [];
  if (MICROSOFT_ALIASES.includes(host)) {
    metadata.push({ preferred_network: 'login.microsoftonline.com', preferred_cache: 'login.windows.net', aliases: MICROSOFT_ALIASES });
  } else {
    metadata.push({ preferred_network: host, preferred_cache: host, aliases: [host] });
    metadata.push({ preferred_network: 'login.microsoftonline.com', preferred_cache: 'login.windows.net', aliases: MICROSOFT_ALIASES });
  }
  return {
    tenant_discovery_endpoint: `${base}/${opts.tenant}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata,
  };
}

export interface JwksDocumentOptions {
  /** The v2 key set carries `issuer` on every key (`https://login.microsoftonline.com/{tenantid}/v2.0` on Entra). */
  issuer?: string;
  /** Set with the v2 key set; Entra adds `cloud_instance_name: microsoftonline.com`. */
  cloudInstanceName?: string;
}

/** The body for `/discovery/keys` (v1: plain) and `/{tenant}/discovery/v2.0/keys` (v2: per-key issuer). */
export function jwksDocument(jwks: { keys: readonly PublicJwk[] }, opts: JwksDocumentOptions = {}): { keys: Array<Record<string, unknown>> } {
  return {
    keys: jwks.keys.map((k) => ({
      kty: k.kty,
      use: k.use,
      kid: k.kid,
      x5t: k.x5t,
      n: k.n,
      e: k.e,
      x5c: [...k.x5c],
      ...(opts.cloudInstanceName !== undefined ? { cloud_instance_name: opts.cloudInstanceName } : {}),
      ...(opts.issuer !== undefined ? { issuer: opts.issuer } : {}),
    })),
  };
}
