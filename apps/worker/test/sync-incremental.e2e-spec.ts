import { EncryptionService, JOB, JobPayloads, QUEUE } from '@subscribernest/shared';
import { FakeEspServer, RecordedRequest, waitFor } from '@subscribernest/testkit';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { startTestWorker, TestWorker } from './support/test-worker';

type SyncData = JobPayloads[typeof JOB.syncPublication];
type Esp = 'kit' | 'mailchimp';

const SIZE = 3_000;
const KEYS: Record<Esp, string> = {
  kit: 'kit-incremental-key',
  mailchimp: 'mc-incremental-key-us3',
};
const LISTS: Record<Esp, string> = { kit: '808080', mailchimp: 'mc_incremental' };
/** The filter parameter of each vendor's incremental listing. */
const FILTER: Record<Esp, string> = { kit: 'updated_after', mailchimp: 'since_last_changed' };
/**
 * Listings a pass makes even when nothing changed: Mailchimp lists every status at once; Kit
 * lists state by state (active, cancelled, bounced, complained, inactive), since it sends an
 * unsubscribe date only to a status=cancelled listing.
 */
const LISTINGS: Record<Esp, number> = { kit: 5, mailchimp: 1 };
const MEMBERS_PATH: Record<Esp, string> = {
  kit: '/subscribers',
  mailchimp: `/lists/${LISTS.mailchimp}/members`,
};

interface RunRow {
  status: string;
  mode: string | null;
  subscriber_count: number | null;
  created_count: number;
  updated_count: number;
  removed_count: number;
  passes: number;
  error_message: string | null;
}

/** What a stored subscriber is, apart from its row's own ids and times. */
interface StoredSubscriber {
  external_id: string;
  status: string;
  first_name: string | null;
  last_name: string | null;
  subscribed_at: Date | null;
  unsubscribed_at: Date | null;
  email_hmac: string;
  metadata: unknown;
}

/**
 * Incremental syncs (Mailchimp since_last_changed, Kit updated_after) against the fake, on the
 * real worker, Postgres and Redis: the first sync is full; the ones after fetch only what
 * changed (a few pages), never remove anything, and survive a 429 mid-pass by resuming from
 * their checkpoint with the same filter; the periodic full pass removes what left the ESP. After
 * rounds of random adds, profile changes, unsubscribes, bounces and removals the rows are exactly
 * those of a fresh full sync of the same list.
 */
describe.each<Esp>(['mailchimp', 'kit'])('incremental %s syncs', (esp) => {
  let fake: FakeEspServer;
  let worker: TestWorker;
  let dataSource: DataSource;
  let encryption: EncryptionService;
  let queue: Queue<SyncData>;
  let users = 0;

  beforeAll(async () => {
    fake = await FakeEspServer.start({
      accounts: [
        {
          esp,
          apiKey: KEYS[esp],
          lists: [{ id: LISTS[esp], name: 'Incremental', size: SIZE, otherStatusEvery: 500 }],
        },
      ],
    });
    worker = await startTestWorker({
      env: {
        BEEHIIV_API_URL: fake.baseUrls.beehiiv,
        KIT_API_URL: fake.baseUrls.kit,
        MAILCHIMP_API_URL: fake.baseUrls.mailchimp,
        // A 429 reaches the job, which is delayed and resumes from its checkpoint.
        ESP_MAX_RETRIES: '0',
        ESP_MAX_INLINE_WAIT_MS: '0',
        SYNC_FULL_PASS_EVERY_DAYS: '7',
      },
    });
    dataSource = worker.dataSource;
    encryption = worker.app.get(EncryptionService);
    queue = worker.queue<SyncData>(QUEUE.subscriberSync);
  }, 60_000);

  afterAll(async () => {
    await worker?.close();
    await fake?.stop();
  });

  async function connection(): Promise<{ userId: string; connectionId: string }> {
    users += 1;
    const [user] = await dataSource.query<{ id: string }[]>(
      `INSERT INTO users (email) VALUES ($1) RETURNING id`,
      [`incremental-${esp}-${users}@example.com`],
    );
    const [row] = await dataSource.query<{ id: string }[]>(
      `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id)
       VALUES ($1, $2, $3, $4) RETURNING id`,
      [user.id, esp, encryption.encrypt(KEYS[esp]), LISTS[esp]],
    );
    return { userId: user.id, connectionId: row.id };
  }

  /** One sync run, from enqueue to its end; with the requests it sent to the fake. */
  async function sync(owner: {
    userId: string;
    connectionId: string;
  }): Promise<{ run: RunRow; requests: RecordedRequest[] }> {
    fake.clearRequests();
    const [run] = await dataSource.query<{ id: string }[]>(
      `INSERT INTO sync_runs (esp_connection_id, user_id, trigger) VALUES ($1, $2, 'manual')
       RETURNING id`,
      [owner.connectionId, owner.userId],
    );
    await dataSource.query(`UPDATE esp_connections SET sync_status = 'syncing' WHERE id = $1`, [
      owner.connectionId,
    ]);
    await queue.add(
      JOB.syncPublication,
      { espConnectionId: owner.connectionId, syncRunId: run.id, trigger: 'manual' },
      { jobId: run.id },
    );
    const ended = await waitFor(
      async () => {
        const [row] = await dataSource.query<RunRow[]>(`SELECT * FROM sync_runs WHERE id = $1`, [
          run.id,
        ]);
        return row.status === 'success' || row.status === 'failed' ? row : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 100, description: `${esp} sync run` },
    );
    const requests = fake.requests.filter((r) => r.path === MEMBERS_PATH[esp] && r.status === 200);
    return { run: ended, requests };
  }

  async function stored(connectionId: string): Promise<StoredSubscriber[]> {
    return dataSource.query<StoredSubscriber[]>(
      `SELECT external_id, status, first_name, last_name, subscribed_at, unsubscribed_at,
              email_hmac, metadata
         FROM subscribers WHERE esp_connection_id = $1 ORDER BY external_id`,
      [connectionId],
    );
  }

  /** The fake's subscribers a sync stores, by id and status. */
  const expected = () =>
    new Map(
      [...fake.subscribers(esp, LISTS[esp])]
        .filter((s) => s.status !== 'other')
        .map((s) => [s.externalId, s.status]),
    );

  it(
    'full first, then incremental rounds that fetch only changes, then the periodic full pass: ' +
      'the rows of a fresh full sync',
    async () => {
      const owner = await connection();
      const first = await sync(owner);
      expect(first.run).toMatchObject({ status: 'success', mode: 'full' });
      const fullRequests = first.requests.length;
      expect(first.requests.every((r) => r.query[FILTER[esp]] === undefined)).toBe(true);

      const removed = new Set<string>();
      for (let round = 1; round <= 3; round++) {
        const changes = fake.mutate(esp, LISTS[esp], {
          add: 40,
          change: 30,
          unsubscribe: 25,
          bounce: 10,
          remove: 15,
        });
        changes.removed.forEach((id) => removed.add(id));
        const { run, requests } = await sync(owner);
        expect(run).toMatchObject({ status: 'success', mode: 'incremental', removed_count: 0 });
        // Only what changed: one page per listing (of three pages of the whole list, plus Kit's
        // per-state listings, for a full pass), each with the vendor's filter.
        expect(requests.length).toBe(LISTINGS[esp]);
        expect(fullRequests).toBeGreaterThanOrEqual(SIZE / 1_000);
        expect(fullRequests).toBeLessThanOrEqual(SIZE / 1_000 + LISTINGS[esp] - 1);
        expect(requests.every((r) => typeof r.query[FILTER[esp]] === 'string')).toBe(true);

        const rows = new Map((await stored(owner.connectionId)).map((r) => [r.external_id, r]));
        for (const [id, status] of expected())
          expect([id, rows.get(id)?.status]).toEqual([id, status]);
        for (const id of changes.changed) {
          const view = [...fake.subscribers(esp, LISTS[esp])].find((s) => s.externalId === id);
          if (view && view.status !== 'other') {
            expect(rows.get(id)?.first_name).toMatch(new RegExp(`\\(${round}\\)$`));
          }
        }
        // Nothing is removed by an incremental pass: what left the ESP is still stored.
        for (const id of removed) expect(rows.has(id)).toBe(true);
      }

      // A 429 mid-pass: the job is delayed and resumes from its checkpoint, same filter.
      fake.mutate(esp, LISTS[esp], { add: 2_100, change: 20 });
      fake.setFaults(esp, LISTS[esp], { rateLimitEvery: 2, retryAfterSeconds: 1 });
      const limited = await sync(owner);
      fake.setFaults(esp, LISTS[esp], undefined);
      expect(limited.run).toMatchObject({ status: 'success', mode: 'incremental' });
      expect(limited.run.passes).toBeGreaterThan(1);
      expect(new Set(limited.requests.map((r) => r.query[FILTER[esp]])).size).toBe(1);

      // The periodic full pass (made due): it removes what the incremental ones could not see.
      await dataSource.query(
        `UPDATE esp_connections SET last_full_sync_at = now() - interval '8 days' WHERE id = $1`,
        [owner.connectionId],
      );
      const periodic = await sync(owner);
      expect(periodic.run).toMatchObject({
        status: 'success',
        mode: 'full',
        removed_count: removed.size,
      });

      // Identical to a fresh full sync of the same list, column by column.
      const fresh = await connection();
      expect((await sync(fresh)).run).toMatchObject({ status: 'success', mode: 'full' });
      const [ours, theirs] = [await stored(owner.connectionId), await stored(fresh.connectionId)];
      expect(ours.length).toBe(expected().size);
      expect(ours).toEqual(theirs);
      const after = await sync(owner);
      expect(after.run).toMatchObject({ status: 'success', mode: 'incremental' });
    },
    240_000,
  );
});
