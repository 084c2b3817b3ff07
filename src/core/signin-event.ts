/** One token request, successful or not, as the sign-in service reports it and the audit trail stores it. */
export interface SignInEvent {
  at: number;
  kind: 'managedIdentity' | 'clientCredentials';
  /** imds, appservice, oauth2-v1, oauth2-v2, adfs … */
  endpoint: string;
  principalId: string | undefined;
  appId: string | undefined;
  /** The audience asked for. */
  resource: string | undefined;
  /** The resource asking (a VM, a web app) for managed identities. */
  hostResourceId: string | undefined;
  success: boolean;
  failure?: string;
  /** Answered from the token cache (not an Entra sign-in). */
  cached?: boolean;
}
