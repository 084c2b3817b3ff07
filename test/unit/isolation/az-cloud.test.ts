import { describe, expect, it } from 'vitest';
import { azCloudConfig } from '../../../src/cli/az-cloud.js';

describe('keyless az-cloud: the cloud config az 2.45 registers', () => {
  const rt = {
    dnsSuffix: 'keyless.localhost',
    endpoints: {
      resourceManager: 'https://localhost:41229',
      authorityHost: 'https://localhost:41229',
      authority: 'https://localhost:41229/t',
      armAudience: 'https://management.keyless.localhost/',
      openIdConfiguration: '',
      jwksUri: '',
      issuer: '',
    },
  };

  it('points ARM, Graph and the ADFS-style authority at Keyless, with the ARM audience Keyless advertises', () => {
    expect(azCloudConfig(rt)).toEqual({
      endpoints: {
        resourceManager: 'https://localhost:41229/',
        management: 'https://management.keyless.localhost/',
        activeDirectory: 'https://localhost:41229/adfs',
        activeDirectoryResourceId: 'https://management.keyless.localhost/',
        activeDirectoryGraphResourceId: 'https://localhost:41229/',
        microsoftGraphResourceId: 'https://localhost:41229/',
        gallery: 'https://localhost:41229/',
        portal: 'https://localhost:41229/portal',
      },
      suffixes: { keyvaultDns: '.vault.keyless.localhost', storageEndpoint: 'keyless.localhost:41229' },
      profile: '2020-09-01-hybrid',
    });
  });

  it('leaves the port out of the storage suffix on 443', () => {
    const cfg = azCloudConfig({ ...rt, endpoints: { ...rt.endpoints, resourceManager: 'https://keyless.example', authorityHost: 'https://keyless.example' } });
    expect(cfg.suffixes['storageEndpoint']).toBe('keyless.localhost');
    expect(cfg.endpoints['resourceManager']).toBe('https://keyless.example/');
  });
});
