import { Client } from 'pg';
import { createTestDatabase } from './database';

async function exists(name: string): Promise<boolean> {
  const client = new Client({
    connectionString:
      process.env.TEST_DATABASE_URL ??
      process.env.DATABASE_URL ??
      'postgres://postgres@127.0.0.1:5432/postgres',
  });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return rowCount === 1;
  } finally {
    await client.end();
  }
}

describe('createTestDatabase (real Postgres)', () => {
  it('creates a uniquely named database, runs setup on it, and drops it', async () => {
    const seen: string[] = [];
    const a = await createTestDatabase({ setup: async (url) => seen.push(url) });
    const b = await createTestDatabase();
    expect(a.name).not.toBe(b.name);
    expect(seen).toEqual([a.url]);
    expect(await exists(a.name)).toBe(true);

    const client = new Client({ connectionString: a.url });
    const terminated = new Promise((resolve) => client.on('error', resolve));
    await client.connect();
    // drop() must succeed even while a connection is still open.
    await a.drop();
    await expect(terminated).resolves.toMatchObject({ code: '57P01' });
    await b.drop();
    expect(await exists(a.name)).toBe(false);
    expect(await exists(b.name)).toBe(false);
  });

  it('drops the database again when setup fails', async () => {
    let created = '';
    await expect(
      createTestDatabase({
        setup: async (url) => {
          created = new URL(url).pathname.slice(1);
          throw new Error('migration failed');
        },
      }),
    ).rejects.toThrow('migration failed');
    expect(await exists(created)).toBe(false);
  });
});
