import { describe, expect, it } from 'vitest';
import { azChoice, explainClients, jsChoice, pythonChoice, renderChoices } from '../../../src/msi/client-selection.js';
import { siteIdentityVariables, vmIdentityVariables } from '../../../src/msi/environments.js';

const IMDS = 'http://127.77.0.1:50342';
const vm = (options: Parameters<typeof vmIdentityVariables>[0]['options']) => vmIdentityVariables({ imdsBase: IMDS, secret: 'S', options, defaultClientId: 'c' });
const site = siteIdentityVariables({ endpoint: 'http://127.0.0.1:50343/msi/token', secret: 'S', siteName: 'web1', hostName: 'web1.azurewebsites.x', resourceGroup: 'rg' });

/** protocols.md §1.1 as a table: which source each client picks for the environments Keyless hands out. */
describe('which identity source each client picks', () => {
  it.each([
    ['keyless run --vm (IMDS)', vm({}), 'IMDS', 'IMDS', 'IMDS (hard-coded)'],
    ['keyless run --vm --az', vm({ az: true }), 'App Service (2019-08-01)', 'App Service (2019-08-01)', 'Cloud Shell (POST)'],
    ['--identity-source cloud-shell', vm({ source: 'cloud-shell' }), 'Cloud Shell', 'Cloud Shell', 'Cloud Shell (POST)'],
    ['--identity-source azure-ml', vm({ source: 'azure-ml' }), 'Azure ML (2017-09-01)', 'Azure ML (2017-09-01)', 'Cloud Shell (POST)'],
    ['--identity-source azure-ml --az', vm({ source: 'azure-ml', az: true }), 'Azure ML (2017-09-01)', 'Azure ML (2017-09-01)', 'Cloud Shell (POST)'],
    ['keyless run --app', site, 'App Service (2019-08-01)', 'App Service (2019-08-01)', 'App Service (2017-09-01)'],
  ])('%s', (_name, env, js, py, az) => {
    expect(jsChoice(env).source).toBe(js);
    expect(pythonChoice(env).source).toBe(py);
    expect(azChoice(env).source).toBe(az);
  });

  it('IMDS moved by AZURE_POD_IDENTITY_AUTHORITY_HOST for the SDKs, never for az', () => {
    const env = vm({});
    expect(jsChoice(env).endpoint).toBe(`${IMDS}/metadata/identity/oauth2/token`);
    expect(pythonChoice({ AZURE_POD_IDENTITY_AUTHORITY_HOST: `${IMDS}/` }).endpoint).toBe(`${IMDS}/metadata/identity/oauth2/token`);
    expect(azChoice(env).endpoint).toBe('http://169.254.169.254/metadata/identity/oauth2/token');
    expect(azChoice(env).because).toMatch(/--az/);
  });

  it('says what each source allows for user-assigned identities', () => {
    expect(jsChoice(vm({ source: 'cloud-shell' })).userAssigned).toMatch(/system-assigned only/);
    expect(jsChoice(vm({ source: 'azure-ml' })).userAssigned).toMatch(/clientId only/);
    expect(azChoice(site).userAssigned).toMatch(/client id> only/);
    expect(azChoice(vm({ az: true })).userAssigned).toMatch(/object id/);
  });

  it('knows the cases where a client picks nothing or something else entirely', () => {
    // Python 1.13 does not fall back to IMDS when IDENTITY_ENDPOINT comes without its header.
    expect(pythonChoice({ IDENTITY_ENDPOINT: 'http://x', AZURE_POD_IDENTITY_AUTHORITY_HOST: IMDS }).source).toBe('none');
    expect(jsChoice({ IDENTITY_ENDPOINT: 'http://x', AZURE_POD_IDENTITY_AUTHORITY_HOST: IMDS }).source).toBe('IMDS');
    expect(azChoice({ APPSETTING_WEBSITE_SITE_NAME: 'w' }).source).toBe('none');
    expect(jsChoice({ AZURE_CLIENT_ID: 'c', AZURE_TENANT_ID: 't', AZURE_FEDERATED_TOKEN_FILE: '/f' }).source).toMatch(/workload identity/);
    expect(pythonChoice({ AZURE_AUTHORITY_HOST: 'https://l', AZURE_TENANT_ID: 't', AZURE_FEDERATED_TOKEN_FILE: '/f' }).source).toMatch(/workload identity/);
    expect(jsChoice({ IDENTITY_ENDPOINT: 'http://x', IDENTITY_HEADER: 'h', IDENTITY_SERVER_THUMBPRINT: 't' }).source).toBe('Service Fabric');
    expect(jsChoice({ IDENTITY_ENDPOINT: 'http://x', IMDS_ENDPOINT: 'http://y' }).source).toBe('Azure Arc');
  });

  it('renders one block per client', () => {
    const text = renderChoices(explainClients(vm({ az: true })));
    expect(text.match(/→/g)).toHaveLength(3);
    expect(text).toContain('because IDENTITY_ENDPOINT + IDENTITY_HEADER are set');
  });
});
