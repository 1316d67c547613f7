import {
  CRON,
  CronRun,
  EncryptionService,
  JOB,
  JobRun,
  PayloadOf,
  QUEUE,
  rerunCronTickJobId,
  runCronJobId,
} from '@subscribernest/shared';
import { FakeEspServer, waitFor } from '@subscribernest/testkit';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { startTestWorker, TestWorker } from './support/test-worker';

type RunCron = PayloadOf<typeof JOB.runCron>;
type RerunCronTick = PayloadOf<typeof JOB.rerunCronTick>;

const KEY = 'b-key';
const LISTS = ['pub_a', 'pub_b', 'pub_c'];

/**
 * `POST /admin/schedulers/midnight-sync/run` puts a `run-cron` job on `scheduler-ticks`; this is the
 * worker's half: the real worker claims a `manual` tick and its syncs run against the fake ESP.
 */
describe('manual cron ticks (scheduler-ticks queue → midnight sync, real worker)', () => {
  let fake: FakeEspServer;
  let worker: TestWorker;
  let dataSource: DataSource;
  let ticks: Queue<RunCron>;

  beforeAll(async () => {
    fake = await FakeEspServer.start({
      accounts: [
        {
          esp: 'beehiiv',
          apiKey: KEY,
          lists: LISTS.map((id, index) => ({ id, name: id, size: 100 * (index + 1) })),
        },
      ],
    });
    worker = await startTestWorker({ env: { BEEHIIV_API_URL: fake.baseUrls.beehiiv } });
    dataSource = worker.dataSource;
    ticks = worker.queue<RunCron>(QUEUE.schedulerTicks);

    const encryption = worker.app.get(EncryptionService);
    const [owner] = await dataSource.query<{ id: string }[]>(
      `INSERT INTO users (email) VALUES ('owner@example.com') RETURNING id`,
    );
    for (const publicationId of [...LISTS, 'pub_gone']) {
      await dataSource.query(
        `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id, status)
         VALUES ($1, 'beehiiv', $2, $3, $4)`,
        [
          owner.id,
          encryption.encrypt(KEY),
          publicationId,
          publicationId === 'pub_gone' ? 'disconnected' : 'active',
        ],
      );
    }
  });

  afterAll(async () => {
    await worker?.close();
    await fake?.stop();
  });

  const jobRun = (jobId: string) =>
    waitFor(
      async () => {
        const row = await dataSource
          .getRepository(JobRun)
          .findOneBy({ queue: QUEUE.schedulerTicks, jobId });
        return row && ['completed', 'dead'].includes(row.status) ? row : undefined;
      },
      { description: `scheduler-ticks job ${jobId} to finish` },
    );

  it('claims a manual tick and syncs every active connection', async () => {
    const requestedAt = new Date('2031-03-04T10:20:30.000Z');
    const jobId = runCronJobId(CRON.midnightSync, requestedAt);
    await ticks.add(
      JOB.runCron,
      { name: CRON.midnightSync, requestedBy: 'admin', requestedAt: requestedAt.toISOString() },
      { jobId },
    );

    expect(await jobRun(jobId)).toMatchObject({ status: 'completed', attempts: 1 });
    const tick = await dataSource
      .getRepository(CronRun)
      .findOneByOrFail({ name: CRON.midnightSync, tick: new Date('2031-03-04T10:20:00.000Z') });
    expect(tick).toMatchObject({
      trigger: 'manual',
      status: 'completed',
      queuedCount: 3,
      skippedCount: 0,
    });

    // The syncs it queued run to the end, one scheduled run per active connection.
    const runs = await waitFor(
      async () => {
        const rows = await dataSource.query<{ publication_id: string; subscriber_count: number }[]>(
          `SELECT c.publication_id, r.subscriber_count FROM sync_runs r
             JOIN esp_connections c ON c.id = r.esp_connection_id
            WHERE r.trigger = 'scheduled' AND r.status = 'success'
            ORDER BY c.publication_id`,
        );
        return rows.length === LISTS.length ? rows : undefined;
      },
      { description: 'the three scheduled syncs to succeed' },
    );
    expect(runs).toEqual([
      { publication_id: 'pub_a', subscriber_count: 100 },
      { publication_id: 'pub_b', subscriber_count: 200 },
      { publication_id: 'pub_c', subscriber_count: 300 },
    ]);
    const [{ n }] = await dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM subscribers`,
    );
    expect(n).toBe(600);
  });

  it('does not run the same minute twice, however often it is asked', async () => {
    const requestedAt = new Date('2031-03-04T10:20:59.000Z');
    const jobId = `${runCronJobId(CRON.midnightSync, requestedAt)}-again`;
    await ticks.add(
      JOB.runCron,
      { name: CRON.midnightSync, requestedBy: 'admin', requestedAt: requestedAt.toISOString() },
      { jobId },
    );
    // The minute is claimed already: the job succeeds without a second fan-out.
    expect(await jobRun(jobId)).toMatchObject({ status: 'completed' });
    expect(
      await dataSource
        .getRepository(CronRun)
        .countBy({ name: CRON.midnightSync, trigger: 'manual' }),
    ).toBe(1);
  });

  it('refuses a cron that cannot be run by hand, at once and for good', async () => {
    const jobId = 'run-cron:outbox-sweep:203103041020';
    await ticks.add(
      JOB.runCron,
      {
        name: 'outbox-sweep' as RunCron['name'],
        requestedBy: 'admin',
        requestedAt: new Date().toISOString(),
      },
      { jobId },
    );
    expect(await jobRun(jobId)).toMatchObject({
      status: 'dead',
      attempts: 1,
      lastError: expect.stringContaining('"outbox-sweep" cannot be run by hand'),
    });
  });
  describe('an admin re-run of one tick (rerun-cron-tick)', () => {
    const rerun = async (cronRunId: string, attempts: number) => {
      const jobId = rerunCronTickJobId(cronRunId, attempts);
      await worker
        .queue<RerunCronTick>(QUEUE.schedulerTicks)
        .add(JOB.rerunCronTick, { cronRunId, requestedBy: 'admin' }, { jobId });
      return jobRun(jobId);
    };

    it('runs a tick that failed all its attempts once more, and records it completed', async () => {
      await dataSource.query(
        `UPDATE sync_runs SET status = 'success', completed_at = now() WHERE status IN ('queued', 'running')`,
      );
      const [failed] = await dataSource.query<{ id: string }[]>(
        `INSERT INTO cron_runs (name, tick, trigger, status, claimed_by, started_at, finished_at, attempts, error)
         VALUES ($1, '2031-04-01T00:00:00Z', 'schedule', 'failed', 'w:1', now(), now(), 3, 'Error: OOM')
         RETURNING id`,
        [CRON.midnightSync],
      );
      expect(await rerun(failed.id, 3)).toMatchObject({ status: 'completed' });
      expect(
        await dataSource.getRepository(CronRun).findOneByOrFail({ id: failed.id }),
      ).toMatchObject({
        status: 'completed',
        trigger: 'schedule',
        attempts: 4,
        queuedCount: LISTS.length,
        error: null,
      });
    });

    it('refuses, for good, to re-run a tick that completed', async () => {
      const done = await dataSource
        .getRepository(CronRun)
        .findOneByOrFail({ name: CRON.midnightSync, trigger: 'manual' });
      expect(await rerun(done.id, done.attempts)).toMatchObject({
        status: 'dead',
        lastError: expect.stringContaining(`cron run ${done.id} was not re-run: it is completed`),
      });
    });
  });
});
