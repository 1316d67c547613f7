import { Test, TestingModule } from '@nestjs/testing';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import {
  CRON,
  CronRun,
  databaseModule,
  dataSourceOptions,
  JOB,
  JobQueuesModule,
  PayloadOf,
  QUEUE,
  queueRootModule,
  runMigrations,
  SyncRunLifecycle,
  validatedConfigModule,
  WorkerEnv,
} from '@subscribernest/shared';
import {
  createTestDatabase,
  createTestQueuePrefix,
  RedisServer,
  serviceEnv,
  TestDatabase,
  TestQueuePrefix,
  testRedisUrl,
  waitFor,
} from '@subscribernest/testkit';
import { Queue } from 'bullmq';
import { LoggerModule } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { SyncSchedulerService } from '../src/schedulers/midnight-sync.scheduler';
import { SchedulersModule } from '../src/schedulers/schedulers.module';

type SyncJob = PayloadOf<typeof JOB.syncPublication>;

const CONNECTIONS = 10_000;
/** More than one fan-out page (MIDNIGHT_SYNC_PAGE_SIZE), so a second page is written while the first is refused. */
const FULL_REDIS_CONNECTIONS = 1_500;

/**
 * One worker replica as far as crons go: its own Nest context, database pool and Redis
 * connections, with the real SchedulersModule and @nestjs/schedule. No queue is processed, so the
 * jobs the fan-out adds stay in Redis to be counted.
 */
async function replica(env: Record<string, string>): Promise<TestingModule> {
  Object.assign(process.env, env);
  const moduleRef = await Test.createTestingModule({
    imports: [
      await validatedConfigModule(WorkerEnv),
      LoggerModule.forRoot({ pinoHttp: { level: 'silent' } }),
      databaseModule(),
      queueRootModule('worker'),
      JobQueuesModule.forRoot(),
      ScheduleModule.forRoot(),
      SchedulersModule,
    ],
  }).compile();
  await moduleRef.init();
  return moduleRef;
}

describe('midnight sync (SyncSchedulerService, real Postgres and Redis)', () => {
  let database: TestDatabase;
  let queues: TestQueuePrefix;
  let env: Record<string, string>;
  let sql: DataSource;
  let syncQueue: Queue<SyncJob>;
  const replicas: TestingModule[] = [];

  const start = async (extra: Record<string, string> = {}): Promise<TestingModule> => {
    const moduleRef = await replica({ ...env, ...extra });
    replicas.push(moduleRef);
    return moduleRef;
  };

  const count = async (query: string, params: unknown[] = []): Promise<number> => {
    const [row] = await sql.query<{ n: number }[]>(query, params);
    return row.n;
  };

  /** Every job in the subscriber-sync queue: 10,000 jobs are read in pages. */
  const queuedJobs = async () => {
    const jobs: { id: string; data: SyncJob }[] = [];
    for (let start = 0; ; start += 1_000) {
      const page = await syncQueue.getJobs(['waiting'], start, start + 999, true);
      jobs.push(...page.map((job) => ({ id: job.id!, data: job.data })));
      if (page.length < 1_000) return jobs;
    }
  };

  beforeAll(async () => {
    database = await createTestDatabase({ setup: runMigrations });
    queues = createTestQueuePrefix();
    env = serviceEnv({
      databaseUrl: database.url,
      queuePrefix: queues.prefix,
      extra: { LOG_LEVEL: 'silent', CRONS_ENABLED: 'false' },
    });
    sql = new DataSource({ ...dataSourceOptions(database.url), logging: false });
    await sql.initialize();
    syncQueue = new Queue<SyncJob>(QUEUE.subscriberSync, {
      connection: { url: testRedisUrl() },
      prefix: queues.prefix,
    });

    // One owner with 10,000 active connections, plus connections the cron must leave alone.
    const [owner] = await sql.query<{ id: string }[]>(
      `INSERT INTO users (email) VALUES ('owner@example.com') RETURNING id`,
    );
    await sql.query(
      `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id, status)
       SELECT $1, 'beehiiv', 'v1.test.not-a-key', 'pub-' || g,
              CASE WHEN g <= $2 THEN 'active' WHEN g % 2 = 0 THEN 'invalid' ELSE 'disconnected' END
         FROM generate_series(1, $2 + 40) AS g`,
      [owner.id, CONNECTIONS],
    );
  });

  afterAll(async () => {
    for (const moduleRef of replicas) await moduleRef.close();
    await syncQueue?.close();
    await sql?.destroy();
    await queues?.cleanup();
    await database?.drop();
  });

  it('registers midnight-sync as "0 0 * * *" in UTC', async () => {
    const worker = await start();
    const job = worker.get(SchedulerRegistry).getCronJob(CRON.midnightSync);
    expect(job.cronTime.source).toBe('0 0 * * *');
    expect(job.cronTime.timeZone).toBe('UTC');
    const next = job.nextDate().toJSDate();
    expect([next.getUTCHours(), next.getUTCMinutes(), next.getUTCSeconds()]).toEqual([0, 0, 0]);
  });

  it('enqueues each of 10,000 active connections exactly once when two replicas fire the same tick', async () => {
    // Three connections already have a sync in progress: no second run for them.
    const busy = await sql.query<{ id: string; user_id: string }[]>(
      `SELECT id, user_id FROM esp_connections WHERE status = 'active' ORDER BY id LIMIT 3`,
    );
    await sql.query(
      `INSERT INTO sync_runs (esp_connection_id, user_id, trigger, status)
       SELECT id, user_id, 'manual', s FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS t(id, user_id, s)`,
      [busy.map((c) => c.id), busy.map((c) => c.user_id), ['queued', 'running', 'queued']],
    );
    const [a, b] = [await start(), await start()];
    const firedAt = new Date('2030-01-02T00:00:00.040Z');

    const results = await Promise.all([
      a.get(SyncSchedulerService).runScheduled(firedAt),
      b.get(SyncSchedulerService).runScheduled(firedAt),
    ]);

    expect(results.map((result) => result.status).sort()).toEqual(['completed', 'not-claimed']);
    const completed = results.find((result) => result.status === 'completed');
    expect(completed).toMatchObject({ outcome: { queued: CONNECTIONS - 3, skipped: 3 } });

    const tick = new Date('2030-01-02T00:00:00.000Z');
    const runs = await sql.getRepository(CronRun).findBy({ name: CRON.midnightSync, tick });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      trigger: 'schedule',
      status: 'completed',
      queuedCount: CONNECTIONS - 3,
      skippedCount: 3,
      error: null,
    });

    // Exactly one unfinished run per active connection, none for the others.
    expect(
      await count(`SELECT count(*)::int AS n FROM sync_runs WHERE trigger = 'scheduled'`),
    ).toBe(CONNECTIONS - 3);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM esp_connections c
          WHERE c.status = 'active'
            AND (SELECT count(*) FROM sync_runs r
                  WHERE r.esp_connection_id = c.id AND r.status IN ('queued', 'running')) = 1`,
      ),
    ).toBe(CONNECTIONS);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM sync_runs r JOIN esp_connections c ON c.id = r.esp_connection_id
          WHERE c.status <> 'active'`,
      ),
    ).toBe(0);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM esp_connections
          WHERE status = 'active' AND sync_status = 'syncing'`,
      ),
    ).toBe(CONNECTIONS - 3);

    // One job per active connection, its id the connection's unfinished run (the three busy runs
    // are put back on the queue under their own ids: these had no job yet).
    const jobs = await queuedJobs();
    expect(jobs).toHaveLength(CONNECTIONS);
    expect(new Set(jobs.map((job) => job.data.espConnectionId)).size).toBe(CONNECTIONS);
    const unfinished = await sql.query<
      { id: string; esp_connection_id: string; trigger: string }[]
    >(`SELECT id, esp_connection_id, trigger FROM sync_runs WHERE status IN ('queued', 'running')`);
    const byRun = new Map(unfinished.map((run) => [run.id, run]));
    for (const job of jobs) {
      expect(job.id).toBe(job.data.syncRunId);
      expect(byRun.get(job.id)).toEqual({
        id: job.id,
        esp_connection_id: job.data.espConnectionId,
        trigger: job.data.trigger,
      });
    }

    // The same tick fired again (a late replica) does nothing.
    await expect(a.get(SyncSchedulerService).runScheduled(firedAt)).resolves.toMatchObject({
      status: 'not-claimed',
    });
    expect(await syncQueue.getWaitingCount()).toBe(CONNECTIONS);
  });

  it('catches up a tick missed while no worker ran, once, whichever replica starts first', async () => {
    // Last night's syncs all finished, and their jobs are gone from Redis.
    await sql.query(
      `UPDATE sync_runs SET status = 'success', completed_at = now() WHERE status IN ('queued', 'running')`,
    );
    await syncQueue.obliterate({ force: true });

    const [first, second] = await Promise.all([
      start({ CRONS_ENABLED: 'true' }),
      start({ CRONS_ENABLED: 'true' }),
    ]);
    const lastMidnight = new Date();
    lastMidnight.setUTCHours(0, 0, 0, 0);
    const caughtUp = await waitFor(
      async () => {
        const run = await sql
          .getRepository(CronRun)
          .findOneBy({ name: CRON.midnightSync, tick: lastMidnight });
        return run?.status === 'completed' ? run : undefined;
      },
      { description: 'the catch-up tick to complete', timeoutMs: 60_000 },
    );
    expect(caughtUp).toMatchObject({
      trigger: 'catch-up',
      queuedCount: CONNECTIONS,
      skippedCount: 0,
    });
    expect(await syncQueue.getWaitingCount()).toBe(CONNECTIONS);

    // A third start, or the same replicas asked again, finds the tick claimed.
    for (const worker of [first, second, await start({ CRONS_ENABLED: 'true' })]) {
      await expect(worker.get(SyncSchedulerService).catchUp(new Date())).resolves.toMatchObject({
        status: 'not-claimed',
      });
    }
    expect(
      await sql.getRepository(CronRun).countBy({ name: CRON.midnightSync, tick: lastMidnight }),
    ).toBe(1);
    expect(await syncQueue.getWaitingCount()).toBe(CONNECTIONS);
  });
  it('re-runs, on the next start, a tick whose worker died mid-fan-out: every connection queued once', async () => {
    await sql.query(
      `UPDATE sync_runs SET status = 'success', completed_at = now() WHERE status IN ('queued', 'running')`,
    );
    await syncQueue.obliterate({ force: true });
    // The dead worker claimed the tick, committed the runs of the first half of the connections
    // and was killed before their addBulk; its lease lapsed since.
    const tick = new Date('2030-06-01T00:00:00Z');
    const fanOut = replicas[0].get(SyncRunLifecycle);
    const half = await fanOut.createScheduledPage(null, CONNECTIONS / 2);
    expect(half.runs.filter((run) => run.created)).toHaveLength(CONNECTIONS / 2);
    await sql.query(
      `INSERT INTO cron_runs (name, tick, trigger, status, claimed_by, started_at, lease_token, lease_expires_at)
       VALUES ($1, $2, 'schedule', 'running', 'dead-host:1', now() - interval '5 minutes',
               gen_random_uuid(), now() - interval '1 minute')`,
      [CRON.midnightSync, tick],
    );

    await start({ CRONS_ENABLED: 'true' });
    const rerun = await waitFor(
      async () => {
        const run = await sql.getRepository(CronRun).findOneBy({ name: CRON.midnightSync, tick });
        return run?.status === 'completed' ? run : undefined;
      },
      { description: 'the dead tick to be re-run', timeoutMs: 60_000 },
    );
    expect(rerun).toMatchObject({
      trigger: 'schedule',
      attempts: 2,
      queuedCount: CONNECTIONS / 2,
      skippedCount: CONNECTIONS / 2,
      error: null,
    });
    const jobs = await queuedJobs();
    expect(jobs).toHaveLength(CONNECTIONS);
    expect(new Set(jobs.map((job) => job.data.espConnectionId)).size).toBe(CONNECTIONS);
    expect(await count(`SELECT count(*)::int AS n FROM sync_runs WHERE status = 'queued'`)).toBe(
      CONNECTIONS,
    );
  });
});

describe('midnight sync when Redis refuses the jobs', () => {
  let database: TestDatabase;
  let redis: RedisServer;
  let worker: TestingModule;
  let sql: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase({ setup: runMigrations });
    // Full from the start: every write is refused with OOM, reads still answer.
    redis = await RedisServer.start({ maxMemory: '1mb' });
    sql = new DataSource({ ...dataSourceOptions(database.url), logging: false });
    await sql.initialize();
    const [owner] = await sql.query<{ id: string }[]>(
      `INSERT INTO users (email) VALUES ('owner@example.com') RETURNING id`,
    );
    await sql.query(
      `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id, sync_status)
       SELECT $1, 'beehiiv', 'v1.test.not-a-key', 'pub-' || g, 'synced' FROM generate_series(1, $2) AS g`,
      [owner.id, FULL_REDIS_CONNECTIONS],
    );
    worker = await replica(
      serviceEnv({
        databaseUrl: database.url,
        queuePrefix: createTestQueuePrefix(redis.url).prefix,
        redisUrl: redis.url,
        extra: { LOG_LEVEL: 'silent', CRONS_ENABLED: 'false' },
      }),
    );
  });

  afterAll(async () => {
    await worker?.close();
    await sql?.destroy();
    await redis?.destroy();
    await database?.drop();
  });

  it('records the tick as failed, and leaves no connection waiting on a sync that will not run', async () => {
    const result = await worker
      .get(SyncSchedulerService)
      .runScheduled(new Date('2030-02-01T00:00:00.100Z'));

    expect(result).toMatchObject({ status: 'failed', error: expect.stringMatching(/OOM/) });
    const [tick] = await sql.getRepository(CronRun).findBy({ name: CRON.midnightSync });
    expect(tick).toMatchObject({ status: 'failed', error: expect.stringMatching(/OOM/) });
    expect(tick.finishedAt).toBeInstanceOf(Date);

    const runs = await sql.query<{ status: string; error_message: string }[]>(
      `SELECT status, error_message FROM sync_runs`,
    );
    // Both pages: the one whose jobs Redis refused, and the next, written while it was refused.
    expect(runs).toHaveLength(FULL_REDIS_CONNECTIONS);
    for (const run of runs) {
      expect(run.status).toBe('failed');
      expect(run.error_message).toMatch(/^Scheduled sync could not be queued: .*OOM/);
    }
    const statuses = await sql.query<{ sync_status: string; n: number }[]>(
      `SELECT sync_status, count(*)::int AS n FROM esp_connections GROUP BY sync_status`,
    );
    expect(statuses).toEqual([{ sync_status: 'error', n: FULL_REDIS_CONNECTIONS }]);
  });
});
