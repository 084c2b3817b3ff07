import type { DataKeyStore, WrappedDataKey } from './keyring.js';

/** An in-memory DataKeyStore for tests and `--memory` runs; `records` is exposed so tests can inspect or corrupt it. */
export function memoryDataKeyStore(initial: WrappedDataKey[] = []): DataKeyStore & { records: WrappedDataKey[] } {
  const records = initial.map((r) => ({ ...r, wrapped: Buffer.from(r.wrapped) }));
  return {
    records,
    loadWrappedDataKeys: () => Promise.resolve(records.map((r) => ({ ...r, wrapped: Buffer.from(r.wrapped) }))),
    saveWrappedDataKey: (k) => {
      // Insert-only, like the SQL store: a data key, once written, never changes.
      if (!records.some((r) => r.id === k.id)) records.push({ ...k, wrapped: Buffer.from(k.wrapped) });
      return Promise.resolve();
    },
  };
}
