/** JWT segments are unpadded base64url (RFC 7515 §2); Node's 'base64url' codec already omits padding. */
export const b64url = (data: Buffer | string): string =>
  (typeof data === 'string' ? Buffer.from(data, 'utf8') : data).toString('base64url');

export const b64urlJson = (value: unknown): string => b64url(JSON.stringify(value));

const SEGMENT = /^[A-Za-z0-9_-]+$/;

export const isB64url = (segment: string): boolean => SEGMENT.test(segment);

/** Node's decoder silently skips invalid characters, so the alphabet is checked first. */
export function b64urlDecode(segment: string): Buffer | undefined {
  return isB64url(segment) ? Buffer.from(segment, 'base64url') : undefined;
}
