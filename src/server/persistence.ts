import type { Store } from '../store/index.js';

/** Store-backed adapters for the ports the keyring and the signing keys declare. */
export function dataKeyStore(store: Store) {
  return {
    async loadWrappedDataKeys() {
      const rows = await store.db.selectFrom('data_keys').selectAll().orderBy('created_at').execute();
      return rows.map((r) => ({ id: r.id, wrapped: Buffer.from(r.wrapped, 'base64'), createdAt: r.created_at }));
    },
    async saveWrappedDataKey(k: { id: string; wrapped: Buffer; createdAt: number }) {
      await store.db
        .insertInto('data_keys')
        .values({ id: k.id, wrapped: k.wrapped.toString('base64'), created_at: k.createdAt })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      store.publish({ topic: 'dataKey', key: k.id });
    },
  };
}

export function signingKeyRepository<R extends { kid: string; state: string; createdAt: number }>(store: Store) {
  return {
    async list(): Promise<R[]> {
      const rows = await store.db.selectFrom('signing_keys').selectAll().orderBy('created_at').execute();
      return rows.map((r) => JSON.parse(r.body) as R);
    },
    async upsert(rec: R): Promise<void> {
      const body = JSON.stringify(rec);
      await store.db
        .insertInto('signing_keys')
        .values({ kid: rec.kid, state: rec.state, body, created_at: rec.createdAt })
        .onConflict((oc) => oc.column('kid').doUpdateSet({ state: rec.state, body }))
        .execute();
      store.publish({ topic: 'signingKey', key: rec.kid });
    },
    async remove(kid: string): Promise<void> {
      await store.db.deleteFrom('signing_keys').where('kid', '=', kid).execute();
      store.publish({ topic: 'signingKey', key: kid });
    },
  };
}
