import { describe, expect, it } from 'vitest';
import { AudienceCatalog, normalizeAudience, scopeToResource } from '../../../src/signin/index.js';

describe('audiences and scopes', () => {
  const cat = new AudienceCatalog({ ownEndpoints: ['https://localhost:8443'], dnsSuffix: 'keyless.localhost' });
  const noApps = () => false;

  it('knows Azure resources, Keyless hosts, and loopback', () => {
    for (const r of ['https://vault.azure.net', 'https://management.azure.com/', 'https://STORAGE.azure.com', 'https://myvault.vault.keyless.localhost:8443', 'https://acct.blob.core.windows.net', 'https://127.0.0.1:9000']) {
      expect(cat.isKnown(r, noApps), r).toBe(true);
    }
  });

  it('refuses hosts nobody serves, and app URIs that name no registered app', () => {
    expect(cat.isKnown('https://evil.example.com', noApps)).toBe(false);
    expect(cat.isKnown('api://11111111-1111-1111-1111-111111111111', noApps)).toBe(false);
    expect(cat.isKnown('api://11111111-1111-1111-1111-111111111111', () => true)).toBe(true);
  });

  it('normalizes scheme and host case and trailing slashes only', () => {
    expect(normalizeAudience('HTTPS://Vault.Azure.NET/')).toBe('https://vault.azure.net');
    expect(normalizeAudience('https://h/Path/')).toBe('https://h/Path');
  });

  it('turns a /.default scope into its resource, keeping az’s double slash', () => {
    expect(scopeToResource('https://vault.azure.net/.default')).toBe('https://vault.azure.net');
    expect(scopeToResource('https://management.keyless.localhost//.default')).toBe('https://management.keyless.localhost/');
    expect(scopeToResource('openid https://graph.microsoft.com/.default offline_access')).toBe('https://graph.microsoft.com');
    expect(scopeToResource('https://vault.azure.net/user_impersonation')).toBeUndefined();
    expect(scopeToResource('a/.default b/.default')).toBeUndefined();
  });
});
