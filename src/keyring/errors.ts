import { KeylessError } from '../core/errors.js';

/**
 * Keyring failures are server faults (500). The public message stays generic because a surface may serialize
 * it to a client; what actually went wrong (which key, which record) goes to `detail`, for logs only.
 */
export function keyringError(detail: string, cause?: unknown): KeylessError {
  return new KeylessError(500, 'KeyringError', 'Stored data could not be decrypted.', { detail, cause });
}

/** Start-up failures (master key, data keys): nobody but the operator sees these, so the message says it all. */
export function keyringSetupError(message: string, cause?: unknown): KeylessError {
  return new KeylessError(500, 'KeyringError', message, { detail: message, cause });
}
