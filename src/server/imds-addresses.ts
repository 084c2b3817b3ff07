import { sql } from 'kysely';
import type { Tx } from '../store/index.js';
import { imdsAddressFor } from '../msi/listeners.js';

const COUNTER = 'imds.lastVm';

/** Atomically takes the next VM number (a single UPDATE … RETURNING, safe across replicas). */
export async function allocateImdsAddress(tx: Tx): Promise<string> {
  await tx.insertInto('meta').values({ key: COUNTER, value: '0' }).onConflict((oc) => oc.column('key').doNothing()).execute();
  const row = await sql<{ value: string }>`update meta set value = cast(cast(value as integer) + 1 as text) where key = ${COUNTER} returning value`.execute(tx);
  return imdsAddressFor(Number(row.rows[0]!.value));
}
