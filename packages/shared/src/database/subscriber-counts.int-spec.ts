import { randomInt, randomUUID } from 'node:crypto';
import { createTestDatabase, TestDatabase } from '@subscribernest/testkit';
import { Client } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import { SUBSCRIBER_STATUSES, SubscriberStatus } from '../entities/subscriber.entity';
import { SubscriberRow, upsertSubscriberPage } from '../sync-lifecycle/subscriber-page';
import { dataSourceOptions } from './data-source-options';
import { runMigrations } from './run-migrations';

type Tally = Record<string, number>;

/**
 * `subscriber_counts` (migration CreateSubscriberCounts1796800000000) against the truth: after
 * every kind of write to `subscribers`, its rows must equal `count(*)` grouped by (connection,
 * status), with no row left for a connection that is gone.
 */
describe('subscriber_counts (real Postgres triggers)', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let userId: string;

  beforeAll(async () => {
    database = await createTestDatabase({ setup: runMigrations });
    dataSource = await new DataSource(dataSourceOptions(database.url)).initialize();
    userId = await user();
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

  async function connection(owner = userId): Promise<string> {
    const [row] = await dataSource.query<{ id: string }[]>(
      `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id)
       VALUES ($1, 'beehiiv', 'enc', $2) RETURNING id`,
      [owner, `pub_${randomUUID()}`],
    );
    return row.id;
  }

  function row(externalId: string, status: SubscriberStatus, name = 'Ada'): SubscriberRow {
    return {
      externalId,
      emailEncrypted: 'v1.k.iv.ct',
      emailHmac: `hmac-${externalId}`,
      emailMasked: 'a***@e***.com',
      status,
      firstName: name,
      lastName: null,
      subscribedAt: null,
      unsubscribedAt: null,
      metadata: {},
    };
  }

  const upsert = (connectionId: string, rows: SubscriberRow[], manager?: EntityManager) =>
    upsertSubscriberPage(manager ?? dataSource.manager, connectionId, rows);

  /** `count(*)` per (connection, status): the truth. */
  async function truth(): Promise<Tally> {
    const rows = await dataSource.query<{ key: string; n: number }[]>(
      `SELECT esp_connection_id || '/' || status AS key, count(*)::int AS n
         FROM subscribers GROUP BY 1`,
    );
    return Object.fromEntries(rows.map((r) => [r.key, r.n]));
  }

  /** The counts table, zero rows left out (a status whose last subscriber left keeps a 0). */
  async function counts(): Promise<Tally> {
    const rows = await dataSource.query<{ key: string; n: number }[]>(
      `SELECT esp_connection_id || '/' || status AS key, count AS n
         FROM subscriber_counts WHERE count <> 0`,
    );
    return Object.fromEntries(rows.map((r) => [r.key, r.n]));
  }

  async function expectExact(): Promise<void> {
    expect(await counts()).toEqual(await truth());
    const [{ negative, orphans }] = await dataSource.query<{ negative: number; orphans: number }[]>(
      `SELECT (SELECT count(*)::int FROM subscriber_counts WHERE count < 0) AS negative,
              (SELECT count(*)::int FROM subscriber_counts sc
                WHERE NOT EXISTS (SELECT 1 FROM esp_connections c
                                   WHERE c.id = sc.esp_connection_id)) AS orphans`,
    );
    expect({ negative, orphans }).toEqual({ negative: 0, orphans: 0 });
  }

  it('an INSERT … ON CONFLICT DO UPDATE page counts its inserts and its updates, skipped rows neither', async () => {
    const id = await connection();
    await upsert(id, [row('a', 'active'), row('b', 'active'), row('c', 'bounced')]);
    await expectExact();
    expect((await counts())[`${id}/active`]).toBe(2);

    // One new row (insert trigger), a status change and a name change (update trigger), one
    // unchanged row (skipped by the upsert's WHERE: in neither transition table).
    const result = await upsert(id, [
      row('a', 'unsubscribed'),
      row('b', 'active', 'Grace'),
      row('c', 'bounced'),
      row('d', 'active'),
    ]);
    expect(result).toEqual({ created: 1, updated: 2 });
    expect(await counts()).toMatchObject({
      [`${id}/active`]: 2,
      [`${id}/unsubscribed`]: 1,
      [`${id}/bounced`]: 1,
    });
    await expectExact();
  });

  it('an update that changes no status writes no count row', async () => {
    const id = await connection();
    await upsert(id, [row('a', 'active'), row('b', 'active')]);
    const before = await dataSource.query<{ xmin: string }[]>(
      `SELECT xmin::text FROM subscriber_counts WHERE esp_connection_id = $1`,
      [id],
    );
    await dataSource.query(
      `UPDATE subscribers SET first_name = 'Renamed' WHERE esp_connection_id = $1`,
      [id],
    );
    await upsert(id, [row('a', 'active', 'Other'), row('b', 'active', 'Other')]);
    const after = await dataSource.query<{ xmin: string }[]>(
      `SELECT xmin::text FROM subscriber_counts WHERE esp_connection_id = $1`,
      [id],
    );
    expect(after).toEqual(before);
    await expectExact();
  });

  it("a connection's deletion (FK cascade, with or without rows left) and a user's leave no counts behind", async () => {
    const emptied = await connection();
    const full = await connection();
    const otherUser = await user();
    const ofOther = await connection(otherUser);
    for (const id of [emptied, full, ofOther]) {
      await upsert(
        id,
        Array.from({ length: 50 }, (_, i) => row(`x${i}`, SUBSCRIBER_STATUSES[i % 3])),
      );
    }
    // Like DELETE /esp-connections/:id: batches first, then the connection.
    await dataSource.query(`DELETE FROM subscribers WHERE esp_connection_id = $1`, [emptied]);
    await dataSource.query(`DELETE FROM esp_connections WHERE id = $1`, [emptied]);
    // The cascade alone takes all 50 rows and the counts rows.
    await dataSource.query(`DELETE FROM esp_connections WHERE id = $1`, [full]);
    await dataSource.query(`DELETE FROM users WHERE id = $1`, [otherUser]);
    const left = await dataSource.query(
      `SELECT * FROM subscriber_counts WHERE esp_connection_id = ANY($1::uuid[])`,
      [[emptied, full, ofOther]],
    );
    expect(left).toEqual([]);
    await expectExact();
  });

  it('a rolled-back write leaves the counts as they were; TRUNCATE empties them', async () => {
    const id = await connection();
    await upsert(id, [row('a', 'active')]);
    await dataSource
      .transaction(async (manager) => {
        await upsert(id, [row('b', 'active'), row('a', 'bounced')], manager);
        throw new Error('roll back');
      })
      .catch(() => undefined);
    expect((await counts())[`${id}/active`]).toBe(1);
    await expectExact();

    await dataSource.query(`TRUNCATE subscribers`);
    expect(await counts()).toEqual({});
    await expectExact();
  });

  it('the migration backfills the counts of rows stored before it', async () => {
    const scratch = await createTestDatabase({ setup: runMigrations });
    const scratchSource = await new DataSource(dataSourceOptions(scratch.url)).initialize();
    try {
      // Back to the schema before the counts (later migrations undone first).
      while (
        (await scratchSource.query(`SELECT to_regclass('subscriber_counts') AS t`))[0].t !== null
      ) {
        await scratchSource.undoLastMigration();
      }
      const [u] = await scratchSource.query(
        `INSERT INTO users (email) VALUES ('b@example.com') RETURNING id`,
      );
      const [c] = await scratchSource.query(
        `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id)
         VALUES ($1, 'kit', 'enc', 'p') RETURNING id`,
        [u.id],
      );
      // Raw SQL: the sync's upsert writes columns later migrations add.
      await scratchSource.query(
        `INSERT INTO subscribers (esp_connection_id, external_id, email_encrypted, email_hmac,
                                  email_masked, status)
         SELECT $1, 'b' || n, 'enc', 'hmac-' || n, 'b***@example.com',
                CASE WHEN n < 20 THEN 'active' ELSE 'bounced' END
           FROM generate_series(0, 29) AS n`,
        [c.id],
      );
      await scratchSource.runMigrations({ transaction: 'each' });
      const rows = await scratchSource.query(
        `SELECT status, count FROM subscriber_counts ORDER BY status`,
      );
      expect(rows).toEqual([
        { status: 'active', count: 20 },
        { status: 'bounced', count: 10 },
      ]);
    } finally {
      await scratchSource.destroy();
      await scratch.drop();
    }
  });

  it('stay equal to count(*) by status after random inserts, upserts, status changes, moves, deletes and cascades', async () => {
    const owners = [userId, await user()];
    const live: string[] = [];
    for (let i = 0; i < 4; i++) live.push(await connection(owners[i % 2]));
    const pick = <T>(items: readonly T[]): T => items[randomInt(items.length)];
    let serial = 0;

    for (let step = 0; step < 120; step++) {
      const op = randomInt(8);
      const id = pick(live);
      if (op <= 2) {
        // A sync page: new and existing external ids, random statuses (a small pool of ids, so
        // many rows conflict; duplicates within a page are not allowed by ON CONFLICT).
        const ids = new Set(Array.from({ length: randomInt(1, 80) }, () => `e${randomInt(150)}`));
        await upsert(
          id,
          [...ids].map((externalId) =>
            row(externalId, pick(SUBSCRIBER_STATUSES), pick(['A', 'B'])),
          ),
        );
      } else if (op === 3) {
        // One statement changing statuses across every connection.
        await dataSource.query(`UPDATE subscribers SET status = $1 WHERE random() < 0.2`, [
          pick(SUBSCRIBER_STATUSES),
        ]);
      } else if (op === 4) {
        // Rows moving between connections (a new external id each, to stay unique).
        const target = pick(live);
        await dataSource.query(
          `UPDATE subscribers SET esp_connection_id = $2, external_id = 'moved-' || id
            WHERE esp_connection_id = $1 AND random() < 0.3`,
          [id, target],
        );
      } else if (op === 5) {
        await dataSource.query(`DELETE FROM subscribers WHERE random() < 0.1`);
      } else if (op === 6) {
        // A transaction of several statements, some rolled back.
        await dataSource
          .transaction(async (manager) => {
            await upsert(
              id,
              [row(`t${serial++}`, 'active'), row(`t${serial++}`, 'bounced')],
              manager,
            );
            await manager.query(
              `DELETE FROM subscribers WHERE esp_connection_id = $1 AND status = 'bounced'`,
              [id],
            );
            if (randomInt(2) === 0) throw new Error('roll back');
          })
          .catch(() => undefined);
      } else {
        // The connection goes (cascade, rows and all) and a new one takes its place.
        await dataSource.query(`DELETE FROM esp_connections WHERE id = $1`, [id]);
        live.splice(live.indexOf(id), 1, await connection(pick(owners)));
      }
      await expectExact();
    }
    expect(Object.keys(await truth()).length).toBeGreaterThan(0);
  });

  describe('concurrent writers', () => {
    async function clients(n: number): Promise<Client[]> {
      return Promise.all(
        Array.from({ length: n }, async () => {
          const client = new Client({ connectionString: database.url });
          await client.connect();
          return client;
        }),
      );
    }

    const insertAcross = (client: Client, targets: string[], tag: string) =>
      client.query(
        `INSERT INTO subscribers (esp_connection_id, external_id, email_encrypted, email_hmac,
                                  email_masked, status)
         SELECT c, $2 || '-' || ord || '-' || g, 'e', 'h', 'm',
                (ARRAY['active', 'unsubscribed', 'bounced'])[1 + g % 3]
           FROM unnest($1::uuid[]) WITH ORDINALITY AS t(c, ord), generate_series(1, 20) AS g`,
        [targets, tag],
      );

    it('to different connections run side by side, and to shared ones in any order never deadlock', async () => {
      const ids = [await connection(), await connection(), await connection()];
      const pool = await clients(6);
      try {
        // Six transactions at once, each writing every connection in its own order in one
        // statement, then deleting and changing statuses across them, held open a moment so
        // that they overlap. Unordered counts upserts would deadlock here now and then.
        for (let round = 0; round < 10; round++) {
          await Promise.all(
            pool.map(async (client, i) => {
              const order = i % 2 === 0 ? ids : [...ids].reverse();
              await client.query('BEGIN');
              try {
                await insertAcross(client, order, `r${round}c${i}`);
                await client.query(
                  `UPDATE subscribers SET status = 'bounced'
                    WHERE external_id LIKE $1 AND status = 'active'`,
                  [`r${round}c${i}-%`],
                );
                await client.query(`SELECT pg_sleep(0.01)`);
                await client.query(
                  `DELETE FROM subscribers WHERE external_id LIKE $1 AND status = 'unsubscribed'`,
                  [`r${round}c${i}-%`],
                );
                await client.query('COMMIT');
              } catch (error) {
                await client.query('ROLLBACK');
                throw error;
              }
            }),
          );
        }
        // Writers to one connection each never wait on each other's counts rows.
        const own = await Promise.all(pool.map(() => connection()));
        await Promise.all(
          pool.map(async (client, i) => {
            for (let page = 0; page < 5; page++) await insertAcross(client, [own[i]], `own${page}`);
          }),
        );
      } finally {
        await Promise.all(pool.map((client) => client.end()));
      }
      await expectExact();
    });
  });
});
