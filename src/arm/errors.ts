import { KeylessError } from '../core/errors.js';

/** ARM's error envelope: `{"error":{"code","message"}}`, codes as Azure returns them. */
export const armError = (status: number, code: string, message: string, detail?: string): KeylessError =>
  new KeylessError(status, code, message, detail === undefined ? {} : { detail });

export const subscriptionNotFound = (sub: string): KeylessError =>
  armError(404, 'SubscriptionNotFound', `The subscription '${sub}' could not be found.`);

export const resourceGroupNotFound = (group: string): KeylessError =>
  armError(404, 'ResourceGroupNotFound', `Resource group '${group}' could not be found.`);

export const resourceNotFound = (type: string, name: string, group: string): KeylessError =>
  armError(
    404,
    'ResourceNotFound',
    `The Resource '${type}/${name}' under resource group '${group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );

export const invalidRequestContent = (message: string): KeylessError =>
  armError(400, 'InvalidRequestContent', `The request content was invalid and could not be deserialized: '${message}'.`);

export const missingApiVersion = (): KeylessError =>
  armError(400, 'MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.");

export const noRegisteredProvider = (ns: string, type: string, apiVersion: string): KeylessError =>
  armError(
    400,
    'NoRegisteredProviderFound',
    `No registered resource provider found for location 'global' and API version '${apiVersion}' for type '${type}'. The supported namespaces are served by Keyless: '${ns}' is not one of them.`,
  );

export const invalidResourceType = (type: string): KeylessError =>
  armError(400, 'InvalidResourceType', `The resource type '${type}' could not be found in the namespace served by Keyless.`);

export const methodNotAllowed = (method: string, path: string): KeylessError =>
  armError(405, 'MethodNotAllowed', `The requested resource does not support http method '${method}' on '${path}'.`);

export const locationRequired = (): KeylessError =>
  armError(400, 'LocationRequired', 'The location property is required for this definition.');

export const invalidName = (kind: string, name: string, rule: string): KeylessError =>
  armError(400, 'InvalidResourceName', `The ${kind} name '${name}' is invalid. ${rule}`);

export function serializeArmError(e: KeylessError): { error: { code: string; message: string; target?: string; details?: unknown[] } } {
  const error: { code: string; message: string; target?: string; details?: unknown[] } = { code: e.code, message: e.message };
  if (typeof e.extra['target'] === 'string') error.target = e.extra['target'];
  return { error };
}
