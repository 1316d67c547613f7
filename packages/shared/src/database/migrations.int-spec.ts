import { createTestDatabase, TestDatabase } from '@subscribernest/testkit';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../migrations';
import { dataSourceOptions } from './data-source-options';
import { runMigrations } from './run-migrations';

async function tables(dataSource: DataSource): Promise<string[]> {
  const rows: { table_name: string }[] = await dataSource.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
  );
  return rows.map((row) => row.table_name);
}

describe('migrations (real Postgres)', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await database?.drop();
  });

  it('apply to an empty database, in order, once', async () => {
    const applied = await runMigrations(database.url);
    expect(applied).toEqual(MIGRATIONS.map((migration) => migration.name));
    expect(await runMigrations(database.url)).toEqual([]);
  });

  it('create every table of the design', async () => {
    dataSource = await new DataSource(dataSourceOptions(database.url)).initialize();
    expect(await tables(dataSource)).toEqual([
      'admin_actions',
      'billing_accounts',
      'billing_periods',
      'cron_runs',
      'esp_connections',
      'job_runs',
      'login_codes',
      'outbox_events',
      'sessions',
      'stripe_webhook_events',
      'subscriber_count_snapshots',
      'subscriber_counts',
      'subscribers',
      'sync_runs',
      'sync_seen_batches',
      'sync_seen_subscribers',
      'typeorm_migrations',
      'users',
    ]);
  });

  it('leave nothing for TypeORM to change: entities and migrations describe the same schema', async () => {
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
  });

  it('enforce the uniqueness the jobs rely on', async () => {
    const [user] = await dataSource.query(
      `INSERT INTO users (email) VALUES ('Owner@Example.com') RETURNING id`,
    );
    await expect(
      dataSource.query(`INSERT INTO users (email) VALUES ('owner@example.COM')`),
    ).rejects.toThrow(/users_email_lower_key/);

    const tick = '2026-11-24T00:00:00Z';
    await dataSource.query(
      `INSERT INTO cron_runs (name, tick, trigger, claimed_by, started_at) VALUES ('midnight-sync', $1, 'schedule', 'a', now())`,
      [tick],
    );
    await expect(
      dataSource.query(
        `INSERT INTO cron_runs (name, tick, trigger, claimed_by, started_at) VALUES ('midnight-sync', $1, 'schedule', 'b', now())`,
        [tick],
      ),
    ).rejects.toThrow(/cron_runs_name_tick_key/);

    const [connection] = await dataSource.query(
      `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id)
       VALUES ($1, 'beehiiv', 'v1.k.x.y', 'pub_1') RETURNING id`,
      [user.id],
    );
    const run = `INSERT INTO sync_runs (esp_connection_id, user_id, trigger) VALUES ($1, $2, 'manual')`;
    await dataSource.query(run, [connection.id, user.id]);
    await expect(dataSource.query(run, [connection.id, user.id])).rejects.toThrow(
      /sync_runs_one_unfinished_per_connection_key/,
    );
    await dataSource.query(`UPDATE sync_runs SET status = 'success'`);
    await dataSource.query(run, [connection.id, user.id]);

    await expect(dataSource.query(`UPDATE esp_connections SET status = 'paused'`)).rejects.toThrow(
      /esp_connections_status_check/,
    );
  });

  it('give new subscribers time-ordered version-7 ids, increasing from one millisecond to the next', async () => {
    const [user] = await dataSource.query(
      `INSERT INTO users (email) VALUES ('ids@example.com') RETURNING id`,
    );
    const [connection] = await dataSource.query(
      `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id)
       VALUES ($1, 'kit', 'v1.k.x.y', 'pub_ids') RETURNING id`,
      [user.id],
    );
    const ids: string[] = [];
    for (let n = 0; n < 3; n++) {
      const before = Date.now();
      const [row] = await dataSource.query(
        `INSERT INTO subscribers (esp_connection_id, external_id, email_encrypted, email_hmac,
                                  email_masked, status)
         VALUES ($1, $2, 'v1.k.x.y', $2, 'i***@example.com', 'active') RETURNING id`,
        [connection.id, `ids-${n}`],
      );
      const id = row.id as string;
      // Version 7, RFC 9562 variant, and the first 48 bits the insert's Unix milliseconds.
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const millis = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
      expect(millis).toBeGreaterThanOrEqual(before - 1_000);
      expect(millis).toBeLessThanOrEqual(Date.now() + 1_000);
      ids.push(id);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect([...ids].sort()).toEqual(ids);
    const [{ ordered }] = await dataSource.query(
      `SELECT array_agg(id ORDER BY id) = array_agg(id ORDER BY external_id) AS ordered
         FROM subscribers WHERE esp_connection_id = $1`,
      [connection.id],
    );
    expect(ordered).toBe(true);
  });

  it('revert cleanly, leaving only the migrations table, and apply again', async () => {
    for (let i = 0; i < MIGRATIONS.length; i++) await dataSource.undoLastMigration();
    expect(await tables(dataSource)).toEqual(['typeorm_migrations']);
    await dataSource.destroy();
    expect(await runMigrations(database.url)).toHaveLength(MIGRATIONS.length);
  });
});
