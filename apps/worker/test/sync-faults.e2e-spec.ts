import { QUEUE } from '@subscribernest/shared';
import { testRedisUrl, waitFor } from '@subscribernest/testkit';
import Redis from 'ioredis';
import { SyncProcessHarness } from './support/sync-process';

const LISTS = {
  doubled: { id: 'pub_doubled', size: 5_000 },
  killed: { id: 'pub_killed', size: 10_000 },
  seenLost: { id: 'pub_seen_lost', size: 6_000 },
};

/**
 * Faults nobody designed the sync around, applied from outside to the built worker: BullMQ
 * handing a running job to a second slot, workers killed until BullMQ gives the job up, runs left
 * with no job at all. Each ends with exact rows and a run an owner can read — never `running` with
 * nothing running.
 */
describe('worker process: sync runs under faults end exact and readable', () => {
  let harness: SyncProcessHarness;
  let redis: Redis;

  beforeAll(async () => {
    harness = await SyncProcessHarness.create([
      {
        id: LISTS.doubled.id,
        name: 'Doubled',
        size: LISTS.doubled.size,
        faults: { latencyMs: 60 },
      },
      { id: LISTS.killed.id, name: 'Killed', size: LISTS.killed.size, faults: { latencyMs: 40 } },
      {
        id: LISTS.seenLost.id,
        name: 'Seen lost',
        size: LISTS.seenLost.size,
        faults: { latencyMs: 40 },
      },
    ]);
    redis = new Redis(testRedisUrl());
  });

  afterAll(async () => {
    redis?.disconnect();
    await harness?.close();
  });

  it('BullMQ runs one sync job twice at once (its lock lost): the older pass stops, nothing is deleted', async () => {
    // A long lock (it never expires by itself here) and a fast stalled check: deleting the lock
    // key is what a Redis outage longer than the lock, or a blocked event loop, leaves behind.
    const worker = await harness.startWorker({
      QUEUE_LOCK_DURATION_MS: '60000',
      QUEUE_STALLED_INTERVAL_MS: '500',
      SYNC_CONCURRENCY: '2',
    });
    const { connectionId, runId } = await harness.requestSync(LISTS.doubled.id);
    await harness.waitForPages(connectionId, 5);
    await redis.del(`${harness.queues.prefix}:${QUEUE.subscriberSync}:${runId}:lock`);

    // The stalled check hands the job to the second slot while the first pass still runs.
    await waitFor(
      async () => {
        const [row] = await harness.dataSource.query<{ passes: number }[]>(
          `SELECT passes FROM sync_runs WHERE id = $1`,
          [runId],
        );
        return row.passes >= 2;
      },
      { timeoutMs: 20_000, description: 'a second pass of the same run to start' },
    );

    const run = await harness.finished(runId);
    expect(run).toMatchObject({
      status: 'success',
      subscriber_count: LISTS.doubled.size,
      removed_count: 0,
      error_message: null,
    });
    expect(await harness.storedIds(connectionId)).toEqual({
      total: LISTS.doubled.size,
      distinct: LISTS.doubled.size,
    });
    await harness.expectExact(connectionId, LISTS.doubled.id);
    // The older pass finds it lost the run at its next write, which may come after the newer
    // pass finished the run: wait for its line rather than read the log once.
    await waitFor(
      () =>
        worker
          .logLines<{ msg?: string; syncRunId?: string }>()
          .some(
            (line) => line.msg === 'sync pass lost its run: stopped' && line.syncRunId === runId,
          ),
      { timeoutMs: 10_000, description: 'the older pass to log that it lost the run' },
    );
    await worker.stop('SIGTERM');
  });

  it('Postgres loses the unlogged seen set mid-pass: the pass starts over and removes only the real ghosts', async () => {
    const { connectionId, runId } = await harness.requestSync(LISTS.seenLost.id);
    // Stored by an earlier sync, gone from the ESP since: the only rows the pass may remove.
    await harness.dataSource.query(
      `INSERT INTO subscribers (esp_connection_id, external_id, email_encrypted, email_hmac,
                                email_masked, status)
       SELECT $1, 'ghost-' || n, 'enc', 'hmac-' || n, 'g***@example.com', 'active'
         FROM generate_series(1, 3) AS n`,
      [connectionId],
    );
    const worker = await harness.startWorker();
    await harness.waitForPages(connectionId, 1);
    // What crash recovery does to an unlogged table (its init fork: empty). Killing the shared
    // Postgres server here is not an option; the reset is what the pass has to survive.
    await harness.dataSource.query(`TRUNCATE sync_seen_batches`);

    const run = await harness.finished(runId);
    expect(run).toMatchObject({
      status: 'success',
      subscriber_count: LISTS.seenLost.size,
      removed_count: 3,
      error_message: null,
    });
    await harness.expectExact(connectionId, LISTS.seenLost.id);
    const lost = worker
      .logLines<{ msg?: string; syncRunId?: string; kept?: number; counted?: number }>()
      .find((line) => line.msg?.startsWith('sync seen set lost') && line.syncRunId === runId);
    expect(lost?.kept).toBeLessThan(lost?.counted ?? 0);
    await worker.stop('SIGTERM');
  });

  it('kill -9 twice during one sync: BullMQ gives the job up, the run says why, the connection can sync again', async () => {
    const env = {
      QUEUE_LOCK_DURATION_MS: '1000',
      QUEUE_STALLED_INTERVAL_MS: '500',
      QUEUE_MAX_STALLED_COUNT: '1',
    };
    const { connectionId, runId } = await harness.requestSync(LISTS.killed.id);
    // Each worker is killed once it has stored a batch of its own (past what the one before
    // left), so both really ran the job.
    let pagesStored = 0;
    for (let kill = 0; kill < 2; kill += 1) {
      const worker = await harness.startWorker(env);
      pagesStored = (await harness.waitForPages(connectionId, pagesStored + 1)).pagesDone;
      await harness.kill(worker);
    }
    expect((await harness.runOf(runId)).status).toBe('running');

    // The third worker's stalled check finds the job stalled a second time: BullMQ fails it
    // without running the processor, and the sync's job-ending hook fails the run.
    const third = await harness.startWorker(env);
    const run = await harness.finished(runId);
    expect(run.status).toBe('failed');
    expect(run.error_message).toMatch(/worker running it stopped/);
    const [connection] = await harness.dataSource.query<{ sync_status: string }[]>(
      `SELECT sync_status FROM esp_connections WHERE id = $1`,
      [connectionId],
    );
    expect(connection.sync_status).toBe('error');
    await waitFor(async () => (await harness.jobRun(runId))?.status === 'dead', {
      description: 'the job audit row to be dead',
    });
    // Nothing unfinished is left behind to block the next sync of the connection.
    const [{ unfinished }] = await harness.dataSource.query<{ unfinished: number }[]>(
      `SELECT count(*)::int AS unfinished FROM sync_runs
        WHERE esp_connection_id = $1 AND status IN ('queued', 'running')`,
      [connectionId],
    );
    expect(unfinished).toBe(0);
    await third.stop('SIGTERM');
  });

  it('the reaper fails a run no job drives, saying why, and releases its connection', async () => {
    const worker = await harness.startWorker({
      SYNC_STALE_AFTER_MS: '1000',
      SYNC_REAPER_INTERVAL_MS: '1000',
    });
    const { connectionId, runId } = await harness.requestSync(LISTS.doubled.id);
    // Its job vanishes (removed from the queue, or a Redis that keeps nothing restarted).
    await harness.finished(runId);
    const orphan = await harness.dataSource.query<{ id: string }[]>(
      `INSERT INTO sync_runs (esp_connection_id, user_id, trigger, status, started_at)
       SELECT id, user_id, 'manual', 'running', now() FROM esp_connections WHERE id = $1
       RETURNING id`,
      [connectionId],
    );
    const orphanId = orphan[0].id;
    await harness.dataSource.query(
      `UPDATE esp_connections SET sync_status = 'syncing' WHERE id = $1`,
      [connectionId],
    );

    const reaped = await harness.finished(orphanId, 20_000);
    expect(reaped.status).toBe('failed');
    expect(reaped.error_message).toMatch(/no job was left to run it/);
    const [connection] = await harness.dataSource.query<{ sync_status: string }[]>(
      `SELECT sync_status FROM esp_connections WHERE id = $1`,
      [connectionId],
    );
    expect(connection.sync_status).toBe('error');

    await worker.stop('SIGTERM');
  });
});
