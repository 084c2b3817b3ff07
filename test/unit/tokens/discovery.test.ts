import { createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  adfsConfiguration,
  instanceDiscovery,
  jwksDocument,
  openIdConfigurationV1,
  openIdConfigurationV2,
} from '../../../src/tokens/index.js';
import { TENANT, fixture, miRequest } from './helpers.js';

const BASE = 'https://127.0.0.1:8443';

describe('discovery documents', () => {
  it('v2 openid-configuration: the fields msal-node and Python msal require, on Keyless host', () => {
    const issuer = `${BASE}/${TENANT}/v2.0`;
    const doc = openIdConfigurationV2({ authorityBase: `${BASE}/`, tenant: TENANT, issuer });
    expect(doc).toMatchObject({
      issuer,
      authorization_endpoint: `${BASE}/${TENANT}/oauth2/v2.0/authorize`,
      token_endpoint: `${BASE}/${TENANT}/oauth2/v2.0/token`,
      jwks_uri: `${BASE}/${TENANT}/discovery/v2.0/keys`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      device_authorization_endpoint: `${BASE}/${TENANT}/oauth2/v2.0/devicecode`,
      end_session_endpoint: `${BASE}/${TENANT}/oauth2/v2.0/logout`,
      kerberos_endpoint: `${BASE}/${TENANT}/kerberos`,
      cloud_instance_name: 'microsoftonline.com',
      msgraph_host: 'graph.microsoft.com',
      cloud_graph_host_name: 'graph.windows.net',
      rbac_url: 'https://pas.windows.net',
    });
    for (const k of ['response_modes_supported', 'claims_supported', 'scopes_supported', 'response_types_supported', 'userinfo_endpoint', 'tenant_region_scope']) {
      expect(doc).toHaveProperty(k);
    }
    // msal-node: issuer must share scheme + host + port with the authority.
    expect(new URL(doc.issuer as string).origin).toBe(new URL(doc.token_endpoint as string).origin);
    // Python msal takes the tenant from the token_endpoint path.
    expect(new URL(doc.token_endpoint as string).pathname.split('/')[1]).toBe(TENANT);
  });

  it('v1 openid-configuration: sts.windows.net issuer, /common/discovery/keys', () => {
    const doc = openIdConfigurationV1({ authorityBase: BASE, tenant: TENANT, issuer: `https://sts.windows.net/${TENANT}/` });
    expect(doc).toMatchObject({
      issuer: `https://sts.windows.net/${TENANT}/`,
      jwks_uri: `${BASE}/common/discovery/keys`,
      token_endpoint: `${BASE}/${TENANT}/oauth2/token`,
      authorization_endpoint: `${BASE}/${TENANT}/oauth2/authorize`,
    });
  });

  it('ADFS configuration: issuer, authorization and token endpoints under /adfs', () => {
    const doc = adfsConfiguration({ authorityBase: BASE });
    expect(doc).toMatchObject({
      issuer: `${BASE}/adfs`,
      authorization_endpoint: `${BASE}/adfs/oauth2/authorize`,
      token_endpoint: `${BASE}/adfs/oauth2/token`,
      jwks_uri: `${BASE}/adfs/discovery/keys`,
    });
    expect(adfsConfiguration({ authorityBase: BASE, issuer: 'x' }).issuer).toBe('x');
  });

  it('instance discovery: tenant_discovery_endpoint with the configured port, metadata with the Keyless host', () => {
    const doc = instanceDiscovery({ authorityBase: BASE, tenant: TENANT });
    expect(doc.tenant_discovery_endpoint).toBe(`${BASE}/${TENANT}/v2.0/.well-known/openid-configuration`);
    expect(doc['api-version']).toBe('1.1');
    const metadata = doc.metadata as Array<{ aliases: string[]; preferred_network: string }>;
    expect(metadata[0]).toEqual({ preferred_network: '127.0.0.1:8443', preferred_cache: '127.0.0.1:8443', aliases: ['127.0.0.1:8443'] });
    expect(metadata.some((m) => m.aliases.includes('login.microsoftonline.com'))).toBe(true);

    const served = instanceDiscovery({ authorityBase: 'https://login.microsoftonline.com', tenant: 'common' });
    expect(served.metadata).toHaveLength(1);
    expect(served.tenant_discovery_endpoint).toBe('https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration');
  });

  it('JWKS documents: v1 plain, v2 with issuer and cloud_instance_name per key; both verify tokens', async () => {
    const f = await fixture();
    const v1 = jwksDocument(f.keys.jwks());
    expect(v1.keys[0]).not.toHaveProperty('issuer');
    expect(Object.keys(v1.keys[0]!)).toEqual(['kty', 'use', 'kid', 'x5t', 'n', 'e', 'x5c']);
    const v2 = jwksDocument(f.keys.jwks(), { issuer: `${BASE}/${TENANT}/v2.0`, cloudInstanceName: 'microsoftonline.com' });
    expect(v2.keys[0]).toMatchObject({ issuer: `${BASE}/${TENANT}/v2.0`, cloud_instance_name: 'microsoftonline.com' });
    expect(JSON.stringify(v2)).not.toMatch(/"(d|p|q|dp|dq|qi)"/);
    const t = f.issuer.issue(miRequest());
    for (const doc of [v1, v2]) {
      await expect(jwtVerify(t.token, createLocalJWKSet(doc as never), { currentDate: new Date(f.clock.now()) })).resolves.toBeTruthy();
    }
  });
});
