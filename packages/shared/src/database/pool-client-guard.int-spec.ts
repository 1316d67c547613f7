import { Logger } from '@nestjs/common';
import { createTestDatabase, TestDatabase, waitFor } from '@subscribernest/testkit';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { guardPoolClients } from './pool-client-guard';

interface PoolClient {
  query(text: string): Promise<{ rows: { pid: number }[] }>;
  listenerCount(event: string): number;
  release(error?: Error): void;
}

describe('guardPoolClients (real Postgres)', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = guardPoolClients(
      await new DataSource({ type: 'postgres', url: database.url }).initialize(),
    );
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('keeps a checked-out client whose backend is terminated from crashing the process', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const pool = (dataSource.driver as unknown as { master: { connect(): Promise<PoolClient> } })
      .master;
    // Checked out and idle: pg-pool has taken its own listener off, and nobody else listens.
    const client = await pool.connect();
    expect(client.listenerCount('error')).toBe(1);
    const { rows } = await client.query('SELECT pg_backend_pid() AS pid');

    const killer = new Client({ connectionString: database.url });
    await killer.connect();
    await killer.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
    await killer.end();

    // Without the guard this 'error' event is unhandled and the process exits.
    await waitFor(async () => warn.mock.calls.length > 0, {
      description: 'the lost connection to be logged',
    });
    expect(warn.mock.calls[0][0]).toMatchObject({ msg: 'Postgres connection lost' });
    client.release(new Error('connection lost'));
    // The pool goes on with a fresh connection.
    await expect(dataSource.query('SELECT 1 AS ok')).resolves.toEqual([{ ok: 1 }]);
    warn.mockRestore();
  });
});
