export type { DataKeyStore, KeyringOptions, WrappedDataKey } from './keyring.js';
export { Keyring } from './keyring.js';
export type { FileMasterKeyOptions, MasterKeyProvider } from './master-key.js';
export { envMasterKeyProvider, fileMasterKeyProvider, MASTER_KEY_BYTES, rawMasterKeyProvider } from './master-key.js';
export { memoryDataKeyStore } from './memory-store.js';
