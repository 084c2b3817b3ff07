import { invalidRequestContent } from '../errors.js';

/** Request bodies must be JSON objects; anything else is ARM's InvalidRequestContent. */
export function checkObject(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw invalidRequestContent('The request body must be a JSON object.');
  return body as Record<string, unknown>;
}

export function optionalTags(tags: unknown): Record<string, string> | undefined {
  if (tags === undefined || tags === null) return undefined;
  if (typeof tags !== 'object' || Array.isArray(tags)) throw invalidRequestContent("Error converting value to type 'Dictionary`2'. Path 'tags'.");
  for (const [k, v] of Object.entries(tags)) {
    if (typeof v !== 'string') throw invalidRequestContent(`Error converting value for tag '${k}' to type 'String'. Path 'tags.${k}'.`);
  }
  return tags as Record<string, string>;
}

export function optionalObject(value: unknown, path: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidRequestContent(`Unexpected value for '${path}': an object was expected.`);
  return value as Record<string, unknown>;
}
