import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * A throwaway PostgreSQL database for one suite. Without a reachable server the suite is skipped — unless
 * KEYLESS_REQUIRE_ALL=1 (CI), where a missing PostgreSQL is a failure.
 */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase | undefined> {
  const admin = process.env['KEYLESS_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const client = new pg.Client({ connectionString: admin, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
  } catch (e) {
    if (process.env['KEYLESS_REQUIRE_ALL'] === '1') throw new Error(`PostgreSQL is required (KEYLESS_REQUIRE_ALL=1) but ${redact(admin)} is unreachable: ${(e as Error).message}`);
    return undefined;
  }
  const name = `keyless_t_${randomBytes(6).toString('hex')}`;
  await client.query(`create database ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

const redact = (u: string) => u.replace(/:[^@/]*@/, ':***@');
