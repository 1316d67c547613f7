import { Client } from 'pg';
import { RedisServer, ServiceProcess, waitFor } from '@subscribernest/testkit';
import { HARNESS_APPLICATION_NAME, SyncProcessHarness } from './support/sync-process';

const LISTS = {
  busy: { id: 'pub_busy', size: 5_000 },
  terminated: { id: 'pub_terminated', size: 4_000 },
  dead: { id: 'pub_dead', size: 2_000 },
  // Long enough (300 pages) that the sync is still paging well after Redis comes back.
  outage: { id: 'pub_outage', size: 30_000 },
};

/** Quick retries, so a test sees several attempts; the same on the api and the worker. */
const FAST_RETRIES = { SYNC_JOB_BACKOFF_MS: '200' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  status: number;
  body: { jobId?: string; message?: string } & Record<string, unknown>;
  retryAfter: string | null;
}

async function call(url: string, token: string, method: 'GET' | 'POST' = 'GET'): Promise<Answer> {
  const response = await fetch(url, { method, headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Answer['body']) : {},
    retryAfter: response.headers.get('retry-after'),
  };
}

/**
 * The built api and worker as processes, faults applied from outside while a sync runs: many
 * requests for the same sync, every Postgres backend killed, a dead sync retried by an admin, and
 * Redis gone for longer than the job lock. Each ends with exact rows and a run an owner can read.
 */
describe('api + worker processes: syncs under faults end exact and readable', () => {
  let harness: SyncProcessHarness;
  let api: { api: ServiceProcess; url: string };

  beforeAll(async () => {
    harness = await SyncProcessHarness.create([
      { id: LISTS.busy.id, name: 'Busy', size: LISTS.busy.size, faults: { latencyMs: 40 } },
      {
        id: LISTS.terminated.id,
        name: 'Terminated',
        size: LISTS.terminated.size,
        faults: { latencyMs: 40 },
      },
      { id: LISTS.dead.id, name: 'Dead', size: LISTS.dead.size },
    ]);
    await harness.startWorker({ ...FAST_RETRIES, ESP_MAX_RETRIES: '0' });
    api = await harness.startApi(FAST_RETRIES);
  }, 60_000);

  afterAll(async () => {
    await harness?.close();
  });

  const requestSync = (connectionId: string, token: string) =>
    call(`${api.url}/esp-connections/${connectionId}/sync`, token, 'POST');

  const connectionOf = async (connectionId: string) => {
    const [row] = await harness.dataSource.query<{ sync_status: string; status: string }[]>(
      `SELECT sync_status, status FROM esp_connections WHERE id = $1`,
      [connectionId],
    );
    return row;
  };

  it('30 concurrent POST /sync during a running sync: no 5xx, and the running sync loses nothing', async () => {
    const { connectionId, token } = await harness.owner(LISTS.busy.id);
    const first = await requestSync(connectionId, token);
    expect(first.status).toBe(202);
    const runId = first.body.jobId!;
    await harness.waitForPages(connectionId, 3);

    const answers = await Promise.all(
      Array.from({ length: 30 }, () => requestSync(connectionId, token)),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status >= 500)).toEqual([]);
    expect(statuses.every((status) => status === 409 || status === 202)).toBe(true);
    for (const conflict of answers.filter((answer) => answer.status === 409)) {
      expect(conflict.body.message).toMatch(/already/i);
    }

    const run = await harness.finished(runId, 90_000);
    expect(run).toMatchObject({ status: 'success', subscriber_count: LISTS.busy.size });
    await harness.expectExact(connectionId, LISTS.busy.id);
    // No attempt of the running sync was lost to the burst (no deadlock victim, no retry).
    const audit = await waitFor(async () => {
      const [row] = await harness.dataSource.query<{ status: string; attempts: number }[]>(
        `SELECT status, attempts FROM job_runs WHERE job_id = $1`,
        [runId],
      );
      return row?.status === 'completed' ? row : undefined;
    });
    expect(audit.attempts).toBe(1);
    // A request that raced the end of the run was accepted as a sync of its own, and ran too.
    for (const accepted of answers.filter((answer) => answer.status === 202)) {
      expect(await harness.finished(accepted.body.jobId!, 90_000)).toMatchObject({
        status: 'success',
      });
    }
    expect(await connectionOf(connectionId)).toMatchObject({ sync_status: 'synced' });
  }, 120_000);

  it('every Postgres backend killed mid-sync, five times: the api answers 503 (never 500), the sync ends exact', async () => {
    const { connectionId, token } = await harness.owner(LISTS.terminated.id);
    const accepted = await requestSync(connectionId, token);
    expect(accepted.status).toBe(202);
    const runId = accepted.body.jobId!;
    await harness.waitForPages(connectionId, 2);

    // Owners keep reading while the database drops every connection.
    const reads: Answer[] = [];
    let reading = true;
    const readers = Array.from({ length: 4 }, async () => {
      while (reading) reads.push(await call(`${api.url}/esp-connections`, token));
    });

    const killer = new Client({ connectionString: harness.database.url });
    await killer.connect();
    try {
      for (let round = 0; round < 5; round++) {
        await killer.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid()
              AND application_name <> $1`,
          [HARNESS_APPLICATION_NAME],
        );
        await sleep(250);
      }
    } finally {
      await killer.end();
    }

    const run = await harness.finished(runId, 90_000);
    reading = false;
    await Promise.all(readers);
    expect(run).toMatchObject({ status: 'success', subscriber_count: LISTS.terminated.size });
    await harness.expectExact(connectionId, LISTS.terminated.id);
    expect(await connectionOf(connectionId)).toMatchObject({ sync_status: 'synced' });

    expect(reads.length).toBeGreaterThan(0);
    expect(reads.filter((read) => read.status >= 500 && read.status !== 503)).toEqual([]);
    for (const unavailable of reads.filter((read) => read.status === 503)) {
      expect(unavailable.retryAfter).toBe('5');
    }
    expect(reads.filter((read) => read.status === 200).length).toBeGreaterThan(0);
  }, 120_000);

  it('a sync that used all its attempts, retried by an admin: resumes from its checkpoint and ends exact', async () => {
    const { userId, connectionId, token } = await harness.owner(LISTS.dead.id);
    await harness.dataSource.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [userId]);
    // Five pages, then the ESP fails every request until the test heals it.
    harness.fake.setFaults('beehiiv', LISTS.dead.id, {
      serverErrorBurst: { afterRequests: 6, count: 1_000_000, status: 503 },
    });
    const accepted = await requestSync(connectionId, token);
    const runId = accepted.body.jobId!;
    const failed = await harness.finished(runId, 90_000);
    expect(failed.status).toBe('failed');
    expect(await connectionOf(connectionId)).toMatchObject({ sync_status: 'error' });

    const dead = await waitFor(async () => {
      const page = await call(`${api.url}/admin/dead-letter`, token);
      const rows = page.body.data as { id: string; jobId: string }[] | undefined;
      return rows?.find((row) => row.jobId === runId);
    });
    harness.fake.setFaults('beehiiv', LISTS.dead.id, undefined);
    const before = harness.fake.requests.length;
    const retried = await call(`${api.url}/admin/dead-letter/${dead.id}/retry`, token, 'POST');
    expect(retried.status).toBe(202);

    const run = await waitFor(
      async () => {
        const row = await harness.runOf(runId);
        return row.status === 'success' ? row : undefined;
      },
      { timeoutMs: 60_000, description: 'the retried sync to succeed' },
    );
    expect(run.subscriber_count).toBe(LISTS.dead.size);
    await harness.expectExact(connectionId, LISTS.dead.id);
    expect(await connectionOf(connectionId)).toMatchObject({ sync_status: 'synced' });
    // It picked up where it stopped: fewer page requests than the whole list takes.
    const pages = Math.ceil(LISTS.dead.size / 100);
    expect(harness.pageRequests(LISTS.dead.id, before).length).toBeLessThan(pages);

    const job = await waitFor(async () => {
      const answer = await call(`${api.url}/jobs/${runId}`, token);
      return answer.body.status === 'completed' ? answer : undefined;
    });
    expect(job.body).toMatchObject({ lastError: null });
  }, 120_000);
});

describe('worker process: Redis gone for longer than the job lock, mid-sync', () => {
  let redis: RedisServer;
  let harness: SyncProcessHarness;

  beforeAll(async () => {
    redis = await RedisServer.start({ appendOnly: true });
    harness = await SyncProcessHarness.create(
      [{ id: LISTS.outage.id, name: 'Outage', size: LISTS.outage.size, faults: { latencyMs: 60 } }],
      { redisUrl: redis.url },
    );
  });

  afterAll(async () => {
    await harness?.close();
    await redis?.destroy();
  });

  it('ends with exact rows and a finished run: the pass that lost its lock deletes nothing', async () => {
    await harness.startWorker({
      ...FAST_RETRIES,
      QUEUE_LOCK_DURATION_MS: '2000',
      QUEUE_STALLED_INTERVAL_MS: '1000',
    });
    const { connectionId, runId } = await harness.requestSync(LISTS.outage.id);
    await harness.waitForPages(connectionId, 3);

    await redis.stop();
    await sleep(5_000); // more than two lock durations
    expect((await harness.runOf(runId)).status).toBe('running');
    await redis.restart();

    const run = await harness.finished(runId, 90_000);
    // The outage did outlast the lock: BullMQ's stalled check took the job from its first
    // execution, and a second one (in the same process) took the run over.
    expect((await harness.syncs.getJob(runId))?.stalledCounter).toBeGreaterThanOrEqual(1);
    expect(run).toMatchObject({
      status: 'success',
      subscriber_count: LISTS.outage.size,
      removed_count: 0,
    });
    expect(await harness.storedIds(connectionId)).toEqual({
      total: LISTS.outage.size,
      distinct: LISTS.outage.size,
    });
    await harness.expectExact(connectionId, LISTS.outage.id);
    const [connection] = await harness.dataSource.query<{ sync_status: string }[]>(
      `SELECT sync_status FROM esp_connections WHERE id = $1`,
      [connectionId],
    );
    expect(connection.sync_status).toBe('synced');
  }, 120_000);
});
