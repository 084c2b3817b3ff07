import { KeylessError } from '../core/errors.js';

/** Entra-style failures; surfaces render them as AADSTS bodies or IMDS/App Service error bodies. */
export const aadsts = (status: number, error: string, code: number, message: string, detail?: string): KeylessError =>
  new KeylessError(status, error, `AADSTS${code}: ${message}`, { extra: { aadstsCode: code }, ...(detail ? { detail } : {}) });

export const resourceNotFoundInTenant = (resource: string, tenantId: string): KeylessError =>
  aadsts(
    400,
    'invalid_resource',
    500011,
    `The resource principal named ${resource} was not found in the tenant named ${tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
  );

/** IMDS's own wording for an unknown or unassigned identity; az's -u sniffing depends on it being a 400. */
export const identityNotFound = (detail?: string): KeylessError =>
  new KeylessError(400, 'invalid_request', 'Identity not found', detail ? { detail } : {});

export const multipleUserAssigned = (): KeylessError =>
  new KeylessError(
    400,
    'invalid_request',
    'Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request',
  );
