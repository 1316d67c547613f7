import { randomBytes } from 'node:crypto';
import {
  createEspClientRegistry,
  EncryptionService,
  JOB,
  JobPayloads,
  QUEUE,
  SyncRunLifecycle,
} from '@subscribernest/shared';
import { FakeEspServer, waitFor } from '@subscribernest/testkit';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { startTestWorker, TestWorker } from './support/test-worker';

type SyncData = JobPayloads[typeof JOB.syncPublication];

const KEY = 'b-key';
const LISTS = {
  big: 'pub_big',
  invalid: 'pub_invalid',
  limited: 'pub_limited',
  flaky: 'pub_flaky',
  resume: 'pub_resume',
  stolen: 'pub_stolen',
};

interface RunRow {
  status: string;
  subscriber_count: number | null;
  created_count: number;
  updated_count: number;
  removed_count: number;
  error_message: string | null;
  passes: number;
  rate_limited_ms: string;
}

describe('subscriber-sync → SubscriberSyncProcessor (real Postgres and Redis, fake ESP)', () => {
  let fake: FakeEspServer;
  let worker: TestWorker;
  let dataSource: DataSource;
  let encryption: EncryptionService;
  let queue: Queue<SyncData>;

  beforeAll(async () => {
    fake = await FakeEspServer.start({
      accounts: [
        {
          esp: 'beehiiv',
          apiKey: KEY,
          lists: [
            { id: LISTS.big, name: 'Big', size: 10_000 },
            { id: LISTS.invalid, name: 'Invalid', size: 10 },
            { id: LISTS.limited, name: 'Limited', size: 600 },
            { id: LISTS.flaky, name: 'Flaky', size: 600 },
            { id: LISTS.resume, name: 'Resume', size: 1_000 },
            {
              id: LISTS.stolen,
              name: 'Stolen',
              size: 300,
              // Every request answers 429; the test holds the first one at the ESP while it
              // takes the run, so the pass is inside its 429 handling once it has lost it.
              faults: { rateLimitEvery: 1, retryAfterSeconds: 1 },
            },
          ],
        },
      ],
    });
    worker = await startTestWorker({
      env: {
        BEEHIIV_API_URL: fake.baseUrls.beehiiv,
        KIT_API_URL: fake.baseUrls.kit,
        MAILCHIMP_API_URL: fake.baseUrls.mailchimp,
        // No in-process retries or waits: every 5xx and 429 reaches the job.
        ESP_MAX_RETRIES: '0',
        ESP_MAX_INLINE_WAIT_MS: '100',
      },
    });
    dataSource = worker.dataSource;
    encryption = worker.app.get(EncryptionService);
    queue = worker.queue<SyncData>(QUEUE.subscriberSync);
  });

  afterAll(async () => {
    await worker?.close();
    await fake?.stop();
  });

  let userCount = 0;
  async function createConnection(
    publicationId: string,
    apiKey = KEY,
  ): Promise<{ userId: string; connectionId: string }> {
    userCount += 1;
    const [user] = await dataSource.query<{ id: string }[]>(
      `INSERT INTO users (email) VALUES ($1) RETURNING id`,
      [`owner${userCount}@example.com`],
    );
    const [connection] = await dataSource.query<{ id: string }[]>(
      `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id, sync_status)
       VALUES ($1, 'beehiiv', $2, $3, 'syncing') RETURNING id`,
      [user.id, encryption.encrypt(apiKey), publicationId],
    );
    return { userId: user.id, connectionId: connection.id };
  }

  async function createRun(userId: string, connectionId: string): Promise<string> {
    const [run] = await dataSource.query<{ id: string }[]>(
      `INSERT INTO sync_runs (esp_connection_id, user_id, trigger) VALUES ($1, $2, 'manual')
       RETURNING id`,
      [connectionId, userId],
    );
    await dataSource.query(`UPDATE esp_connections SET sync_status = 'syncing' WHERE id = $1`, [
      connectionId,
    ]);
    return run.id;
  }

  async function enqueue(
    connectionId: string,
    runId: string,
    opts: Parameters<Queue['add']>[2] = {},
  ): Promise<void> {
    await queue.add(
      JOB.syncPublication,
      { espConnectionId: connectionId, syncRunId: runId, trigger: 'manual' },
      { jobId: runId, ...opts },
    );
  }

  async function runOf(runId: string): Promise<RunRow> {
    const [row] = await dataSource.query<RunRow[]>(`SELECT * FROM sync_runs WHERE id = $1`, [
      runId,
    ]);
    return row;
  }

  async function finished(runId: string, timeoutMs = 60_000): Promise<RunRow> {
    return waitFor(
      async () => {
        const run = await runOf(runId);
        return run.status === 'success' || run.status === 'failed' ? run : undefined;
      },
      { timeoutMs, description: `sync run ${runId} to finish` },
    );
  }

  /** The run row is written inside the job: BullMQ records the completion a moment later. */
  async function completedJob(runId: string) {
    return waitFor(async () => {
      const found = await queue.getJob(runId);
      return found && (await found.getState()) === 'completed' ? found : undefined;
    });
  }

  async function expectExact(connectionId: string, listId: string): Promise<void> {
    const rows = await dataSource.query<
      { external_id: string; status: string; email_encrypted: string }[]
    >(
      `SELECT external_id, status, email_encrypted, email_masked FROM subscribers
        WHERE esp_connection_id = $1`,
      [connectionId],
    );
    const expected = [...fake.subscribers('beehiiv', listId)].filter((s) => s.status !== 'other');
    expect(rows).toHaveLength(expected.length);
    const stored = new Map(rows.map((row) => [row.external_id, row]));
    for (const subscriber of expected) {
      const row = stored.get(subscriber.externalId);
      expect(row?.status).toBe(subscriber.status);
      expect(row && encryption.decrypt(row.email_encrypted)).toBe(subscriber.email);
    }
  }

  async function connectionOf(connectionId: string) {
    const [row] = await dataSource.query<
      {
        status: string;
        sync_status: string;
        last_synced_at: Date | null;
        sync_checkpoint: unknown;
      }[]
    >(`SELECT * FROM esp_connections WHERE id = $1`, [connectionId]);
    return row;
  }

  it('lands a 10,000-subscriber list exactly, then a re-sync updates only what changed', async () => {
    const { userId, connectionId } = await createConnection(LISTS.big);
    const first = await createRun(userId, connectionId);
    await enqueue(connectionId, first);
    const run = await finished(first, 120_000);
    expect(run).toMatchObject({
      status: 'success',
      subscriber_count: 10_000,
      created_count: 10_000,
      updated_count: 0,
      removed_count: 0,
    });
    await expectExact(connectionId, LISTS.big);
    expect(await connectionOf(connectionId)).toMatchObject({
      status: 'active',
      sync_status: 'synced',
      sync_checkpoint: null,
    });
    expect((await connectionOf(connectionId)).last_synced_at).not.toBeNull();
    const [snapshot] = await dataSource.query<{ subscriber_count: number; day: string }[]>(
      `SELECT subscriber_count, day::text AS day FROM subscriber_count_snapshots WHERE user_id = $1`,
      [userId],
    );
    expect(snapshot).toEqual({
      subscriber_count: 10_000,
      day: new Date().toISOString().slice(0, 10),
    });
    const seen = await dataSource.query<
      {
        n: number;
      }[]
    >(`SELECT count(*)::int AS n FROM sync_seen_batches`);
    expect(seen[0].n).toBe(0);

    const before = new Map(
      (
        await dataSource.query<{ external_id: string; updated_at: Date }[]>(
          `SELECT external_id, updated_at FROM subscribers WHERE esp_connection_id = $1`,
          [connectionId],
        )
      ).map((row) => [row.external_id, row.updated_at.getTime()]),
    );
    const changes = fake.mutate('beehiiv', LISTS.big, {
      add: 50,
      unsubscribe: 30,
      bounce: 10,
      remove: 20,
    });
    // Only what is new or changed is encrypted: the rest is compared with what is stored first.
    const encrypted = jest.spyOn(encryption, 'encryptMany');
    const encryptedCount = () =>
      encrypted.mock.calls.reduce((sum, [values]) => sum + values.length, 0);
    const second = await createRun(userId, connectionId);
    await enqueue(connectionId, second);
    const rerun = await finished(second, 120_000);
    const changed = new Set([...changes.unsubscribed, ...changes.bounced]);
    expect(encryptedCount()).toBe(50 + changed.size);
    expect(rerun).toMatchObject({
      status: 'success',
      subscriber_count: 10_030,
      created_count: 50,
      updated_count: changed.size,
      removed_count: 20,
    });
    await expectExact(connectionId, LISTS.big);
    const after = await dataSource.query<{ external_id: string; updated_at: Date }[]>(
      `SELECT external_id, updated_at FROM subscribers WHERE esp_connection_id = $1`,
      [connectionId],
    );
    let untouched = 0;
    for (const row of after) {
      const previous = before.get(row.external_id);
      if (previous === undefined) continue;
      if (changed.has(row.external_id)) {
        expect(row.updated_at.getTime()).toBeGreaterThan(previous);
      } else {
        expect(row.updated_at.getTime()).toBe(previous);
        untouched += 1;
      }
    }
    expect(untouched).toBe(10_000 - 20 - changed.size);
    for (const id of changes.removed) expect(before.has(id)).toBe(true);

    // Nothing changed at the ESP: nothing is encrypted, nothing rewritten, nothing removed.
    encrypted.mockClear();
    const third = await createRun(userId, connectionId);
    await enqueue(connectionId, third);
    expect(await finished(third, 120_000)).toMatchObject({
      status: 'success',
      subscriber_count: 10_030,
      created_count: 0,
      updated_count: 0,
      removed_count: 0,
    });
    expect(encryptedCount()).toBe(0);
    encrypted.mockRestore();
    await expectExact(connectionId, LISTS.big);
  }, 240_000);

  it('invalid key: connection invalid, run failed without the key, no retry', async () => {
    const { userId, connectionId } = await createConnection(LISTS.invalid, 'wrong-key-123');
    const runId = await createRun(userId, connectionId);
    await enqueue(connectionId, runId);
    const run = await finished(runId);
    expect(run.status).toBe('failed');
    expect(run.error_message).toBeTruthy();
    expect(run.error_message).not.toContain('wrong-key-123');
    expect(await connectionOf(connectionId)).toMatchObject({
      status: 'invalid',
      sync_status: 'error',
    });
    const job = await waitFor(async () => {
      const found = await queue.getJob(runId);
      return found && (await found.getState()) === 'failed' ? found : undefined;
    });
    expect(job.attemptsMade).toBe(1);
  });

  it('a stored key the configured keys cannot decrypt fails the run at once, saying so', async () => {
    const { userId, connectionId } = await createConnection(LISTS.invalid);
    const foreign = EncryptionService.fromSettings({
      ENCRYPTION_KEY: `gone:${randomBytes(32).toString('base64')}`,
      HMAC_KEY: randomBytes(32).toString('base64'),
    });
    await dataSource.query(`UPDATE esp_connections SET encrypted_api_key = $1 WHERE id = $2`, [
      foreign.encrypt(KEY),
      connectionId,
    ]);
    const runId = await createRun(userId, connectionId);
    await enqueue(connectionId, runId);
    const run = await finished(runId);
    expect(run.status).toBe('failed');
    expect(run.error_message).toBe(
      'the stored API key cannot be decrypted with the configured encryption keys',
    );
    expect(await connectionOf(connectionId)).toMatchObject({ sync_status: 'error' });
    const job = await waitFor(async () => {
      const found = await queue.getJob(runId);
      return found && (await found.getState()) === 'failed' ? found : undefined;
    });
    expect(job.attemptsMade).toBe(1);
  });

  it('429 with a long Retry-After: the job is delayed without burning attempts, then completes', async () => {
    fake.setFaults('beehiiv', LISTS.limited, { rateLimitEvery: 3, retryAfterSeconds: 1 });
    const { userId, connectionId } = await createConnection(LISTS.limited);
    const runId = await createRun(userId, connectionId);
    const from = fake.requests.length;
    await enqueue(connectionId, runId);
    // While it waits, the audit says so, and when it runs again.
    const delayed = await waitFor(async () => {
      const [row] = await dataSource.query<
        {
          status: string;
          delayed_until: Date | null;
          last_error: string | null;
          attempts: number;
        }[]
      >(
        `SELECT status, delayed_until, last_error, attempts FROM job_runs
          WHERE queue = 'subscriber-sync' AND job_id = $1`,
        [runId],
      );
      return row?.status === 'delayed' ? row : undefined;
    });
    expect(delayed.attempts).toBe(1);
    expect(delayed.delayed_until).toBeInstanceOf(Date);
    expect(delayed.last_error).toBe(
      `rate limited by the ESP (429): waiting until ${delayed.delayed_until!.toISOString()}`,
    );
    const run = await finished(runId);
    expect(run.status).toBe('success');
    const job = await completedJob(runId);
    // The audit is written from the worker's events, just after them.
    const audit = await waitFor(async () => {
      const [row] = await dataSource.query<{ status: string; delayed_until: Date | null }[]>(
        `SELECT status, delayed_until FROM job_runs WHERE queue = 'subscriber-sync' AND job_id = $1`,
        [runId],
      );
      return row?.status === 'completed' ? row : undefined;
    });
    expect(audit.delayed_until).toBeNull();
    // Two 429s, two delays, no failed attempt: only the completing attempt counts.
    expect(fake.requests.slice(from).filter((r) => r.status === 429)).toHaveLength(2);
    expect(job.failedReason).toBeFalsy();
    expect(job.attemptsMade).toBe(1);
    expect(job.attemptsStarted).toBe(3);
    await expectExact(connectionId, LISTS.limited);
  }, 60_000);

  it('a pass that loses its run while it handles a 429 stops: no delay, no retry, nothing written', async () => {
    const { userId, connectionId } = await createConnection(LISTS.stolen);
    const runId = await createRun(userId, connectionId);
    const hold = fake.holdRequests('beehiiv', LISTS.stolen);
    await enqueue(connectionId, runId);
    await hold.arrived;
    expect((await runOf(runId)).status).toBe('running');
    // Another execution of the job takes the run (BullMQ ran it twice) while the first pass's
    // request is still waiting on the ESP; that request then answers 429.
    const lifecycle = worker.app.get(SyncRunLifecycle);
    expect((await lifecycle.startPass(runId, connectionId)).kind).toBe('started');
    hold.release();

    const job = await waitFor(async () => {
      const found = await queue.getJob(runId);
      return found && (await found.getState()) === 'failed' ? found : undefined;
    });
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(/pass/i);
    // The lost pass recorded no 429 wait and wrote no row. Here nothing else drives the run (the
    // "newer pass" was the test), so the job's end fails it, saying why: never left running.
    const run = await waitFor(async () => {
      const row = await runOf(runId);
      return row.status === 'failed' ? row : undefined;
    });
    expect(run).toMatchObject({ passes: 2, rate_limited_ms: '0' });
    expect(run.error_message).toMatch(/taken over by a newer pass/);
    const [{ n }] = await dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM subscribers WHERE esp_connection_id = $1`,
      [connectionId],
    );
    expect(n).toBe(0);
    expect(await connectionOf(connectionId)).toMatchObject({ sync_status: 'error' });
  });

  it('a transient 5xx burst is retried by BullMQ and the sync completes', async () => {
    fake.setFaults('beehiiv', LISTS.flaky, {
      serverErrorBurst: { afterRequests: 2, count: 2, status: 503 },
    });
    const { userId, connectionId } = await createConnection(LISTS.flaky);
    const runId = await createRun(userId, connectionId);
    await enqueue(connectionId, runId, { backoff: { type: 'fixed', delay: 100 } });
    const run = await finished(runId);
    expect(run.status).toBe('success');
    const job = await completedJob(runId);
    // Two failed attempts (one per 503), then the one that completes; Redis keeps the last
    // failure's reason, not its stack.
    expect(job.failedReason).toMatch(/503/);
    expect(job.stacktrace).toEqual([]);
    expect(job.attemptsMade).toBe(3);
    await expectExact(connectionId, LISTS.flaky);
  });

  it('resumes from the checkpoint: only the remaining pages are requested, the data is exact', async () => {
    const { userId, connectionId } = await createConnection(LISTS.resume);
    // A crashed first attempt: pages 1-3 stored and seen, the checkpoint after page 3.
    const client = createEspClientRegistry({
      BEEHIIV_API_URL: fake.baseUrls.beehiiv,
      KIT_API_URL: fake.baseUrls.kit,
      MAILCHIMP_API_URL: fake.baseUrls.mailchimp,
    }).get('beehiiv');
    const runId = await createRun(userId, connectionId);
    let cursor: string | null = null;
    const seen: string[] = [];
    for (let page = 0; page < 3; page++) {
      const result = await client.fetchPage({ apiKey: KEY, publicationId: LISTS.resume }, cursor);
      seen.push(...result.subscribers.map((s) => s.externalId));
      for (const s of result.subscribers) {
        await dataSource.query(
          `INSERT INTO subscribers (esp_connection_id, external_id, email_encrypted, email_hmac,
             email_masked, status) VALUES ($1, $2, $3, $4, 'x', $5)`,
          [
            connectionId,
            s.externalId,
            encryption.encrypt(s.email),
            encryption.emailHmac(s.email),
            s.status,
          ],
        );
      }
      cursor = result.nextCursor;
    }
    await dataSource.query(
      `INSERT INTO sync_seen_batches (sync_run_id, external_ids, id_count) VALUES ($1, $2, $3)`,
      [runId, JSON.stringify(seen), seen.length],
    );
    await dataSource.query(
      `UPDATE sync_runs SET status = 'running', started_at = now() WHERE id = $1`,
      [runId],
    );
    await dataSource.query(`UPDATE esp_connections SET sync_checkpoint = $2 WHERE id = $1`, [
      connectionId,
      JSON.stringify({
        syncRunId: runId,
        cursor,
        pagesDone: 3,
        subscribersSeen: seen.length,
        updatedAt: new Date().toISOString(),
      }),
    ]);

    const from = fake.requests.length;
    await enqueue(connectionId, runId);
    const run = await finished(runId);
    expect(run.status).toBe('success');
    const requested = fake.requests
      .slice(from)
      .filter((r) => r.path === `/publications/${LISTS.resume}/subscriptions`);
    expect(requested).toHaveLength(10 - 3);
    expect(requested.every((r) => typeof r.query.cursor === 'string')).toBe(true);
    await expectExact(connectionId, LISTS.resume);
    expect(run.removed_count).toBe(0);
  });
});
