import { SubscriberStatus } from '@subscribernest/shared';
import { escapeLiteral } from 'pg';
import { exportSelect, SubscriberRepository } from '../src/subscribers/subscriber.repository';
import { ExportDatabase } from '../src/subscribers/export-database';
import { startTestApi, TestApi } from './support/test-api';

/** Every index a plan (EXPLAIN FORMAT JSON) reads. */
function indexesOf(plan: Record<string, unknown>): string[] {
  const own = typeof plan['Index Name'] === 'string' ? [plan['Index Name']] : [];
  const children = (plan.Plans as Record<string, unknown>[] | undefined) ?? [];
  return [...own, ...children.flatMap(indexesOf)];
}

/** Every node type of a plan (EXPLAIN FORMAT JSON). */
function nodeTypesOf(plan: Record<string, unknown>): string[] {
  const children = (plan.Plans as Record<string, unknown>[] | undefined) ?? [];
  return [plan['Node Type'] as string, ...children.flatMap(nodeTypesOf)];
}

/**
 * Time-ordered ids make a list synced in one go a contiguous run of the primary key. Here the
 * large list comes after a small one's rows, and holds most of the table: the shape in which the
 * planner, given `esp_connection_id = $1 ORDER BY id`, reads along the primary key past the
 * other list's rows (the api bench found it: 30 requests a second on a 2M list instead of 400).
 */
describe('list and export queries read a list through its connection’s indexes', () => {
  let api: TestApi;
  let repository: SubscriberRepository;
  let userId: string;
  let large: string;

  const planOf = async (sql: string, params: unknown[]) => {
    const [row] = await api.dataSource.query<
      { 'QUERY PLAN': [{ Plan: Record<string, unknown> }] }[]
    >(`EXPLAIN (FORMAT JSON) ${sql}`, params);
    return indexesOf(row['QUERY PLAN'][0].Plan);
  };

  const seed = async (publication: string, size: number) => {
    const [{ id }] = await api.dataSource.query<{ id: string }[]>(
      `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id,
                                    publication_name, status, sync_status)
       VALUES ($1, 'beehiiv', 'k', $2, $2, 'active', 'synced') RETURNING id`,
      [userId, publication],
    );
    await api.dataSource.query(
      `INSERT INTO subscribers (esp_connection_id, external_id, email_encrypted, email_hmac,
                                email_masked, status, subscribed_at)
       SELECT $1, 'ext-' || g, repeat('x', 90), md5(g::text) || md5((g + 1)::text),
              'r***@example.com',
              (ARRAY['active', 'active', 'unsubscribed', 'active', 'bounced'])[1 + g % 5], now()
         FROM generate_series(1, $2::int) AS g`,
      [id, size],
    );
    return id;
  };

  beforeAll(async () => {
    api = await startTestApi();
    repository = api.app.get(SubscriberRepository);
    [{ id: userId }] = await api.dataSource.query<{ id: string }[]>(
      `INSERT INTO users (email) VALUES ('planner@example.com') RETURNING id`,
    );
    await seed('small', 20_000);
    large = await seed('large', 200_000);
    await api.dataSource.query('VACUUM ANALYZE subscribers');
  }, 120_000);

  afterAll(() => api?.close());

  it('reproduces the trap: an equality on the connection is read along the primary key', async () => {
    const indexes = await planOf(
      `SELECT s.id, s.email_masked, s.status, s.subscribed_at
         FROM subscribers s
         JOIN esp_connections c ON c.id = s.esp_connection_id AND c.user_id = $2
        WHERE s.esp_connection_id = $1
        ORDER BY s.id LIMIT 51 OFFSET 950`,
      [large, userId],
    );
    expect(indexes).toContain('subscribers_pkey');
  });

  const afterId = async (status?: SubscriberStatus) => {
    const [row] = await api.dataSource.query<{ id: string }[]>(
      `SELECT id FROM subscribers WHERE esp_connection_id = $1 AND status = coalesce($2, status)
        ORDER BY id OFFSET 10000 LIMIT 1`,
      [large, status ?? null],
    );
    return row.id;
  };

  it.each([
    ['a first page', undefined, false, 0],
    ['an offset page', undefined, false, 950],
    ['a cursor page', undefined, true, 0],
    ['a first page of one status', 'unsubscribed', false, 0],
    ['an offset page of one status', 'bounced', false, 950],
    ['a cursor page of one status', 'unsubscribed', true, 0],
  ] as const)('%s reads the connection’s index', async (_, status, cursor, skip) => {
    const query = repository.pageQuery(
      userId,
      large,
      { status, take: 51, skip },
      cursor ? await afterId(status) : undefined,
    );
    const indexes = await planOf(...query.getQueryAndParameters());
    expect(indexes).not.toContain('subscribers_pkey');
    expect(indexes).toContain(
      status ? 'subscribers_connection_status_id_idx' : 'subscribers_connection_id_idx',
    );
  });

  it('the export reads the connection’s index', async () => {
    // The SELECT the export's COPY runs, its values inlined as there, planned for every row on
    // a connection of the exports' pool (its session settings).
    const exportPool = api.app.get(ExportDatabase).dataSource;
    const [row] = await exportPool.query<{ 'QUERY PLAN': [{ Plan: Record<string, unknown> }] }[]>(
      `EXPLAIN (FORMAT JSON) ${exportSelect(escapeLiteral(large), escapeLiteral(userId))}`,
    );
    const indexes = indexesOf(row['QUERY PLAN'][0].Plan);
    expect(indexes).not.toContain('subscribers_pkey');
    expect(indexes).toContain('subscribers_connection_id_idx');
    // No sort, which would take in the whole list before the first row could leave.
    expect(nodeTypesOf(row['QUERY PLAN'][0].Plan).filter((type) => /Sort/.test(type))).toEqual([]);
  });
});
