import { randomUUID } from 'node:crypto';
import { createTestDatabase, TestDatabase } from '@subscribernest/testkit';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../database/data-source-options';
import { runMigrations } from '../database/run-migrations';
import { SubscriberStatus } from '../entities/subscriber.entity';
import { SyncRequestedEvent } from '../events/sync-requested.event';
import { SubscriberRow } from '../sync-lifecycle/subscriber-page';
import { SyncRunLifecycle } from '../sync-lifecycle/sync-run-lifecycle';
import { BillingUsageRepository } from './billing-usage.repository';
import { billingMonthOf, monthlyAmountCents } from './pricing';

describe('BillingUsageRepository (real Postgres)', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let usage: BillingUsageRepository;
  const december = billingMonthOf(new Date('2026-12-15T12:00:00Z'));

  beforeAll(async () => {
    database = await createTestDatabase({ setup: runMigrations });
    dataSource = await new DataSource(dataSourceOptions(database.url)).initialize();
    usage = new BillingUsageRepository(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  async function user(): Promise<string> {
    const [row] = await dataSource.query<{ id: string }[]>(
      `INSERT INTO users (email) VALUES ($1) RETURNING id`,
      [`${randomUUID()}@example.com`],
    );
    return row.id;
  }

  async function connection(userId: string): Promise<string> {
    const [row] = await dataSource.query<{ id: string }[]>(
      `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id)
       VALUES ($1, 'beehiiv', 'enc', $2) RETURNING id`,
      [userId, `pub_${randomUUID()}`],
    );
    return row.id;
  }

  /** One complete sync of the connection through the real lifecycle, storing `statuses`. */
  async function sync(userId: string, connectionId: string, statuses: SubscriberStatus[]) {
    const lifecycle = new SyncRunLifecycle(dataSource);
    const event = new SyncRequestedEvent({
      eventId: randomUUID(),
      espConnectionId: connectionId,
      userId,
      syncRunId: randomUUID(),
      requestedAt: new Date().toISOString(),
    });
    const created = await lifecycle.createManual(userId, connectionId, event);
    if (created.kind !== 'created') throw new Error(created.kind);
    const start = await lifecycle.startPass(created.run.id, connectionId);
    if (start.kind !== 'started') throw new Error(start.kind);
    const rows: SubscriberRow[] = statuses.map((status, i) => ({
      externalId: `sub-${i}`,
      emailEncrypted: `enc-${i}`,
      emailHmac: `hmac-${connectionId}-${i}`,
      emailMasked: 's***@example.com',
      status,
      firstName: null,
      lastName: null,
      subscribedAt: null,
      unsubscribedAt: null,
      metadata: {},
    }));
    await lifecycle.storePage(start.pass, rows, {
      syncRunId: created.run.id,
      cursor: null,
      pagesDone: 1,
      subscribersSeen: rows.length,
      updatedAt: new Date().toISOString(),
    });
    await lifecycle.finish(start.pass);
  }

  const snapshot = (userId: string, day: string, count: number, connectionId: string | null) =>
    dataSource.query(
      `INSERT INTO subscriber_count_snapshots (user_id, esp_connection_id, day, subscriber_count)
       VALUES ($1, $2, $3, $4)`,
      [userId, connectionId, day, count],
    );

  it("bills the sum of each connection's highest count of the month", async () => {
    const alice = await user();
    const bob = await user();
    const [news, digest] = [randomUUID(), randomUUID()];
    // The two connections peak on different days: 8,000 on the 9th, 4,500 on the 20th.
    await snapshot(alice, '2026-12-01', 6_000, news);
    await snapshot(alice, '2026-12-01', 3_000, digest);
    await snapshot(alice, '2026-12-09', 8_000, news);
    await snapshot(alice, '2026-12-09', 1_000, digest);
    await snapshot(alice, '2026-12-20', 7_500, news);
    await snapshot(alice, '2026-12-20', 4_500, digest);
    // Another month, and another user, are ignored.
    await snapshot(alice, '2026-11-30', 500_000, news);
    await snapshot(alice, '2027-01-01', 500_000, digest);
    await snapshot(bob, '2026-12-10', 900_000, randomUUID());

    const max = await usage.billedSubscriberCount(alice, december.startDay, december.endDay);
    expect(max).toBe(8_000 + 4_500);
    expect(monthlyAmountCents(max)).toBe(600);
    expect(await usage.billedSubscriberCount(bob, december.startDay, december.endDay)).toBe(
      900_000,
    );
  });

  it('counts rows from before snapshots were per connection as one connection', async () => {
    const erin = await user();
    await snapshot(erin, '2026-12-02', 15_000, null);
    await snapshot(erin, '2026-12-03', 12_000, null);
    await snapshot(erin, '2026-12-28', 2_000, randomUUID());
    expect(await usage.billedSubscriberCount(erin, december.startDay, december.endDay)).toBe(
      17_000,
    );
  });

  it('is 0 (and $0) for a month without snapshots', async () => {
    const carol = await user();
    await snapshot(carol, '2026-10-05', 42, randomUUID());
    const max = await usage.billedSubscriberCount(carol, december.startDay, december.endDay);
    expect(max).toBe(0);
    expect(monthlyAmountCents(max)).toBe(0);
  });

  it('reads the snapshots the sync writes: every stored row of every connection, any status', async () => {
    const dave = await user();
    const first = await connection(dave);
    const second = await connection(dave);
    await sync(dave, first, [...Array<SubscriberStatus>(30).fill('active'), 'unsubscribed']);
    await sync(dave, second, ['bounced', 'active', 'unsubscribed']);
    const month = billingMonthOf(new Date());
    // One row per connection for today: 31 + 3 stored rows.
    expect(await usage.billedSubscriberCount(dave, month.startDay, month.endDay)).toBe(34);
    const rows = await dataSource.query<{ esp_connection_id: string; subscriber_count: number }[]>(
      `SELECT esp_connection_id, subscriber_count FROM subscriber_count_snapshots
        WHERE user_id = $1 ORDER BY subscriber_count DESC`,
      [dave],
    );
    expect(rows).toEqual([
      { esp_connection_id: first, subscriber_count: 31 },
      { esp_connection_id: second, subscriber_count: 3 },
    ]);
  });
});
