import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export interface TestDatabase {
  /** Database name, unique to this run. */
  name: string;
  /** Connection URL for the apps under test. */
  url: string;
  /** Drops the database (terminating any connection still open to it). */
  drop(): Promise<void>;
}

export interface CreateTestDatabaseOptions {
  /** Server to create it on; defaults to TEST_DATABASE_URL, then DATABASE_URL, then local. */
  serverUrl?: string;
  /** Name prefix, for spotting leftovers: `sn_test` by default. */
  prefix?: string;
  /** Runs against the new database before it is handed out, e.g. the migrations. */
  setup?: (url: string) => Promise<unknown>;
}

const LOCAL_SERVER = 'postgres://postgres@127.0.0.1:5432/postgres';

function serverUrl(explicit?: string): URL {
  return new URL(
    explicit ?? process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? LOCAL_SERVER,
  );
}

async function withMaintenanceClient<T>(
  server: URL,
  fn: (client: Client) => Promise<T>,
): Promise<T> {
  const admin = new URL(server);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A fresh database for one test file or run: created empty, prepared by `setup`, dropped by
 * `drop()`. Runs never see each other's rows, so test files can run in parallel.
 */
export async function createTestDatabase(
  options: CreateTestDatabaseOptions = {},
): Promise<TestDatabase> {
  const server = serverUrl(options.serverUrl);
  const name = `${options.prefix ?? 'sn_test'}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await withMaintenanceClient(server, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(server);
  url.pathname = `/${name}`;
  const database: TestDatabase = {
    name,
    url: url.toString(),
    drop: () =>
      withMaintenanceClient(server, async (client) => {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      }),
  };
  try {
    await options.setup?.(database.url);
  } catch (error) {
    await database.drop();
    throw error;
  }
  return database;
}
