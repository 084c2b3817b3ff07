import { describe, expect, it } from 'vitest';
import { resolveVmSource, siteIdentityVariables, vmIdentityVariables } from '../../../src/msi/environments.js';

const base = 'http://127.77.0.9:50342';
const vars = (options: Parameters<typeof vmIdentityVariables>[0]['options'], defaultClientId?: string) => vmIdentityVariables({ imdsBase: base, secret: 'SECRET', options, defaultClientId });

describe('identity variables for keyless run', () => {
  it('IMDS only by default', () => {
    expect(vars({})).toEqual({ AZURE_POD_IDENTITY_AUTHORITY_HOST: base });
  });

  it('--az: App Service for the SDKs plus MSI_ENDPOINT for az, all on the VM listener', () => {
    expect(vars({ az: true })).toEqual({
      AZURE_POD_IDENTITY_AUTHORITY_HOST: base,
      IDENTITY_ENDPOINT: `${base}/msi/token`,
      IDENTITY_HEADER: 'SECRET',
      MSI_ENDPOINT: `${base}/msi/token`,
    });
  });

  it('cloud-shell and azure-ml sources', () => {
    expect(vars({ source: 'cloud-shell' })).toEqual({ AZURE_POD_IDENTITY_AUTHORITY_HOST: base, MSI_ENDPOINT: `${base}/msi/token` });
    expect(vars({ source: 'azure-ml' }, 'client-1')).toEqual({
      AZURE_POD_IDENTITY_AUTHORITY_HOST: base,
      MSI_ENDPOINT: `${base}/msi/token`,
      MSI_SECRET: 'SECRET',
      DEFAULT_IDENTITY_CLIENT_ID: 'client-1',
    });
    expect(vars({ source: 'azure-ml' })).not.toHaveProperty('DEFAULT_IDENTITY_CLIENT_ID');
  });

  it('--az defaults the source to app-service and refuses imds (MSI_ENDPOINT would take the SDKs off IMDS)', () => {
    expect(resolveVmSource({ az: true })).toBe('app-service');
    expect(resolveVmSource({})).toBe('imds');
    expect(() => resolveVmSource({ az: true, source: 'imds' })).toThrow(/app-service/);
    expect(() => resolveVmSource({ source: 'nope' as never })).toThrow(/Unknown identity source/);
  });

  it('a web app gets both App Service pairs and the site names', () => {
    expect(siteIdentityVariables({ endpoint: 'http://127.0.0.1:1/msi/token', secret: 'S', siteName: 'w', hostName: 'w.azurewebsites.x', resourceGroup: 'rg' })).toEqual({
      IDENTITY_ENDPOINT: 'http://127.0.0.1:1/msi/token',
      IDENTITY_HEADER: 'S',
      MSI_ENDPOINT: 'http://127.0.0.1:1/msi/token',
      MSI_SECRET: 'S',
      WEBSITE_SITE_NAME: 'w',
      APPSETTING_WEBSITE_SITE_NAME: 'w',
      WEBSITE_HOSTNAME: 'w.azurewebsites.x',
      WEBSITE_RESOURCE_GROUP: 'rg',
    });
  });
});
