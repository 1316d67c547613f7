import { createTestDatabase, TestDatabase } from '@subscribernest/testkit';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../database/data-source-options';
import { runMigrations } from '../database/run-migrations';
import { ScheduledRunsPage, SyncRunLifecycle } from './sync-run-lifecycle';

const CONNECTIONS = 6_000;
const PAGE = 500;

/**
 * The midnight fan-out's pages (createScheduledPage) on a database shaped like the one that made
 * Postgres plan each page as a scan of every connection and a sort: one owner with thousands of
 * connections, statistics fresh. Each page must read its own index entries only, however far
 * the fan-out has gone: sequential scans of `esp_connections` read less than a page's worth of
 * tuples in all (one scan reads every connection; the statement that was quadratic read them
 * all at least once).
 */
describe('the midnight fan-out page (real Postgres)', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let lifecycle: SyncRunLifecycle;

  beforeAll(async () => {
    database = await createTestDatabase({ setup: runMigrations });
    // One session, so the statistics read below include every page's statement.
    dataSource = await new DataSource({
      ...dataSourceOptions(database.url),
      extra: { max: 1 },
    }).initialize();
    lifecycle = new SyncRunLifecycle(dataSource);
    const [owner] = await dataSource.query<{ id: string }[]>(
      `INSERT INTO users (email) VALUES ('owner@example.com') RETURNING id`,
    );
    const [leaving] = await dataSource.query<{ id: string }[]>(
      `INSERT INTO users (email, delete_requested_at) VALUES ('leaving@example.com', now())
       RETURNING id`,
    );
    await dataSource.query(
      `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id)
       SELECT $1, 'beehiiv', 'enc', 'pub-' || g FROM generate_series(1, $2) AS g`,
      [owner.id, CONNECTIONS],
    );
    await dataSource.query(
      `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id)
       SELECT $1, 'kit', 'enc', 'pub-' || g FROM generate_series(1, 10) AS g`,
      [leaving.id],
    );
    await dataSource.query('ANALYZE');
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  async function seqTuplesRead(): Promise<number> {
    // Statistics of this session's statements are flushed when it next goes idle.
    await dataSource.query('SELECT pg_stat_force_next_flush()');
    await dataSource.query('SELECT 1');
    const [row] = await dataSource.query<{ read: string }[]>(
      `SELECT coalesce(seq_tup_read, 0) AS read FROM pg_stat_user_tables
        WHERE relname = 'esp_connections'`,
    );
    return Number(row.read);
  }

  it('reads each page from the index, runs every active connection once, and none of an account being deleted', async () => {
    const before = await seqTuplesRead();
    const pages: ScheduledRunsPage[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await lifecycle.createScheduledPage(after, PAGE, { requireSubscription: false });
      if (page.connections === 0) break;
      pages.push(page);
      after = page.lastConnectionId;
      if (page.connections < PAGE) break;
    }
    const read = (await seqTuplesRead()) - before;

    const runs = pages.flatMap((page) => page.runs);
    expect(runs).toHaveLength(CONNECTIONS);
    expect(runs.every((run) => run.created)).toBe(true);
    expect(new Set(runs.map((run) => run.espConnectionId)).size).toBe(CONNECTIONS);
    // The leaving account's connections are walked (they count towards a page) but get no run.
    expect(pages.reduce((sum, page) => sum + page.connections, 0)).toBe(CONNECTIONS + 10);
    const [syncing] = await dataSource.query<{ count: number }[]>(
      `SELECT count(*)::int AS count FROM esp_connections WHERE sync_status = 'syncing'`,
    );
    expect(syncing.count).toBe(CONNECTIONS);
    expect(read).toBeLessThan(PAGE);
  });

  it('a second fan-out finds every run already unfinished: nothing created, each run handed back', async () => {
    const first = await lifecycle.createScheduledPage(null, PAGE, { requireSubscription: false });
    // The page may hold some of the leaving account's 10 connections, which have no run.
    expect(first.runs.length).toBeGreaterThanOrEqual(PAGE - 10);
    expect(first.runs.some((run) => run.created)).toBe(false);
    const [runs] = await dataSource.query<{ count: number }[]>(
      `SELECT count(*)::int AS count FROM sync_runs`,
    );
    expect(runs.count).toBe(CONNECTIONS);
  });
});
