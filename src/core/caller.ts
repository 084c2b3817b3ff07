/** Who is calling, as established by a surface's authentication step. */
export interface Caller {
  /** oid claim: the service principal's object id. */
  objectId: string;
  /** appid / azp claim: the client id. */
  appId: string;
  tenantId: string;
  /** How the caller authenticated (bearer, sharedKey, sas, imds…), for audit. */
  via: string;
  /** For ARM's "The client '{clientName}'": the UPN for users, the app id for service principals. */
  clientName: string;
  /** Verified token claims, when bearer. */
  claims?: Record<string, unknown>;
}
