import type { KeylessError } from '../core/errors.js';
import { kvError } from './errors.js';

/** Who is calling, as Key Vault prints it: `appid={appId};oid={objectId};iss=https://sts.windows.net/{tid}/`. */
export const callerString = (c: { appId: string; objectId: string; tenantId: string }): string =>
  `appid=${c.appId};oid=${c.objectId};iss=https://sts.windows.net/${c.tenantId}/`;

/** 403 ForbiddenByRbac, byte for byte the service's template (authorization.md §4.4). */
export function forbiddenByRbac(p: {
  caller: { appId: string; objectId: string; tenantId: string };
  action: string;
  resource: string;
  vaultName: string;
  location: string;
  denyAssignmentId?: string | undefined;
  summary?: string;
  explanation?: unknown;
}): KeylessError {
  const message =
    'Caller is not authorized to perform action on resource.\r\n' +
    'If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\n' +
    `Caller: ${callerString(p.caller)}\r\n` +
    `Action: '${p.action}'\r\n` +
    `Resource: '${p.resource.toLowerCase()}'\r\n` +
    'Assignment: (not found)\r\n' +
    `DenyAssignmentId: ${p.denyAssignmentId ?? 'null'}\r\n` +
    `DecisionReason: ${p.denyAssignmentId ? "'DeniedWithDenyAssignment'" : "'DeniedWithNoValidRBAC'"} \r\n` +
    `Vault: ${p.vaultName};location=${p.location}\r\n`;
  const e = kvError(403, 'Forbidden', message, 'ForbiddenByRbac', { detail: p.summary ?? 'no role assignment grants the data action' });
  if (p.summary !== undefined) e.extra['summary'] = p.summary;
  if (p.explanation !== undefined) e.extra['explanation'] = p.explanation;
  return e;
}

/** 403 ForbiddenByPolicy: the access-policy model's denial. */
export function forbiddenByPolicy(p: {
  caller: { appId: string; objectId: string; tenantId: string };
  kind: string;
  permission: string;
  vaultName: string;
  location: string;
}): KeylessError {
  const message =
    `The user, group or application '${callerString(p.caller)}' does not have ${p.kind} ${p.permission} permission on key vault '${p.vaultName};location=${p.location}'. ` +
    'For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287';
  const e = kvError(403, 'Forbidden', message, 'ForbiddenByPolicy', { detail: `no access policy grants ${p.kind}/${p.permission}` });
  e.extra['summary'] = `denied: no access policy of vault '${p.vaultName}' grants ${p.kind} '${p.permission}' to object id ${p.caller.objectId}${p.caller.appId ? ` (app ${p.caller.appId})` : ''}`;
  e.extra['explanation'] = { model: 'accessPolicy', kind: p.kind, permission: p.permission };
  return e;
}
