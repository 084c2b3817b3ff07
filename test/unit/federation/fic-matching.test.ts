import { describe, expect, it } from 'vitest';
import { matchFederatedCredential } from '../../../src/federation/fic-matching.js';
import type { FicRecord } from '../../../src/federation/fic-rules.js';
import type { KeylessError } from '../../../src/core/errors.js';

const AKS = 'https://eastus.oic.prod-aks.azure.com/tenant/cluster/';
const GH = 'https://token.actions.githubusercontent.com';
const fic = (name: string, issuer: string, subject: string, audience = 'api://AzureADTokenExchange'): FicRecord => ({ name, properties: { issuer, subject, audiences: [audience] } });
const fics = [fic('aks', AKS, 'system:serviceaccount:default:app'), fic('gh', GH, 'repo:org/repo:ref:refs/heads/main'), fic('aud', GH, 'repo:org/repo:environment:prod', 'api://custom')];

function code(fn: () => unknown): { code: number; error: string; status: number; message: string } {
  try {
    fn();
  } catch (e) {
    const k = e as KeylessError;
    return { code: k.extra['aadstsCode'] as number, error: k.code, status: k.status, message: k.message };
  }
  throw new Error('expected a failure');
}

describe('matching an external token to a federated credential', () => {
  it('matches issuer and subject exactly and the credential audience among aud', () => {
    expect(matchFederatedCredential(fics, { iss: AKS, sub: 'system:serviceaccount:default:app', aud: ['api://AzureADTokenExchange'] }).name).toBe('aks');
    expect(matchFederatedCredential(fics, { iss: GH, sub: 'repo:org/repo:environment:prod', aud: ['x', 'api://custom'] }).name).toBe('aud');
  });

  it('no credential at all → AADSTS70021 with issuer, subject and audience named (400 invalid_request)', () => {
    const r = code(() => matchFederatedCredential([], { iss: AKS, sub: 's', aud: ['api://AzureADTokenExchange'] }));
    expect(r).toMatchObject({ code: 70021, error: 'invalid_request', status: 400 });
    expect(r.message).toContain(`No matching federated identity record found for presented assertion. Assertion Issuer: '${AKS}'. Assertion Subject: 's'. Assertion Audience: 'api://AzureADTokenExchange'.`);
  });

  it('an issuer nobody trusts → AADSTS700211; a trailing slash makes it a different issuer', () => {
    const r = code(() => matchFederatedCredential(fics, { iss: AKS.replace(/\/$/, ''), sub: 'system:serviceaccount:default:app', aud: ['api://AzureADTokenExchange'] }));
    expect(r).toMatchObject({ code: 700211, error: 'invalid_client', status: 401 });
    expect(r.message).toContain("presented assertion issuer 'https://eastus.oic.prod-aks.azure.com/tenant/cluster'");
  });

  it('a known issuer with another subject → AADSTS700213; subjects are case-sensitive', () => {
    const r = code(() => matchFederatedCredential(fics, { iss: AKS, sub: 'system:serviceaccount:default:App', aud: ['api://AzureADTokenExchange'] }));
    expect(r).toMatchObject({ code: 700213, error: 'invalid_client' });
    expect(r.message).toContain("presented assertion subject 'system:serviceaccount:default:App'");
  });

  it('issuer and subject match but the audience does not → AADSTS700212', () => {
    const r = code(() => matchFederatedCredential(fics, { iss: AKS, sub: 'system:serviceaccount:default:app', aud: ['api://other', 'https://kubernetes.default.svc'] }));
    expect(r).toMatchObject({ code: 700212, error: 'invalid_client' });
    expect(r.message).toContain("presented assertion audience 'api://other,https://kubernetes.default.svc'");
  });
});
