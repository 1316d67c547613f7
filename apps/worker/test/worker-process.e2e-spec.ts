import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import {
  DEFAULT_JOB_OPTIONS,
  DomainEventPayloads,
  EVENT,
  JOB,
  JobRun,
  QUEUE,
  runMigrations,
} from '@subscribernest/shared';
import {
  createTestDatabase,
  createTestQueuePrefix,
  freePort,
  serviceEnv,
  startService,
  TestDatabase,
  TestQueuePrefix,
  testRedisUrl,
  waitFor,
} from '@subscribernest/testkit';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';

const ENTRY = resolve(__dirname, '../dist/main.js');
// Run from an empty directory so no developer .env file leaks into the test.
const CWD = resolve(__dirname);

describe('worker process', () => {
  let database: TestDatabase;
  let queues: TestQueuePrefix;

  beforeAll(async () => {
    database = await createTestDatabase({ setup: runMigrations });
    queues = createTestQueuePrefix();
  });

  afterAll(async () => {
    await database?.drop();
    await queues?.cleanup();
  });

  it('boots, serves only /health and /metrics on the ops port, and exits 0 on SIGTERM', async () => {
    const opsPort = await freePort();
    const worker = await startService({
      entry: ENTRY,
      cwd: CWD,
      env: serviceEnv({
        databaseUrl: database.url,
        queuePrefix: queues.prefix,
        extra: { OPS_PORT: String(opsPort) },
      }),
      readyUrl: `http://127.0.0.1:${opsPort}/health`,
    });
    const ops = `http://127.0.0.1:${opsPort}`;

    const health = await fetch(`${ops}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: 'ok',
      details: { database: { status: 'up' }, redis: { status: 'up' } },
    });

    const metrics = await fetch(`${ops}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toContain('nodejs_eventloop_lag_seconds');

    expect((await fetch(`${ops}/esp-connections`)).status).toBe(404);
    expect((await fetch(`${ops}/health`, { method: 'POST' })).status).toBe(405);

    expect(await worker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const lines = worker.logLines();
    expect(lines.every((line) => line.service === 'worker')).toBe(true);
    expect(lines.some((line) => String(line.msg).includes('worker started'))).toBe(true);
  });

  it('consumes a domain event once ready, enqueues the sync, audits the job, and drains on SIGTERM', async () => {
    const opsPort = await freePort();
    const queue = (name: typeof QUEUE.domainEvents | typeof QUEUE.subscriberSync) =>
      new Queue(name, {
        connection: { url: testRedisUrl() },
        prefix: queues.prefix,
        defaultJobOptions: DEFAULT_JOB_OPTIONS[name],
      });
    const events = queue(QUEUE.domainEvents);
    const syncs = queue(QUEUE.subscriberSync);
    const dataSource = new DataSource({ type: 'postgres', url: database.url });
    await dataSource.initialize();
    try {
      // Published while no worker runs: picked up once the worker is ready.
      const event: DomainEventPayloads[typeof EVENT.syncRequested] = {
        eventId: randomUUID(),
        espConnectionId: randomUUID(),
        userId: randomUUID(),
        syncRunId: randomUUID(),
        requestedAt: new Date().toISOString(),
      };
      await events.add(EVENT.syncRequested, event, { jobId: event.eventId });

      const worker = await startService({
        entry: ENTRY,
        cwd: CWD,
        env: serviceEnv({
          databaseUrl: database.url,
          queuePrefix: queues.prefix,
          extra: { OPS_PORT: String(opsPort), DOMAIN_EVENTS_CONCURRENCY: '2' },
        }),
        readyUrl: `http://127.0.0.1:${opsPort}/health`,
      });

      const job = await waitFor(async () => syncs.getJob(event.syncRunId), {
        description: 'the sync-publication job',
      });
      expect(job.name).toBe(JOB.syncPublication);
      expect(job.data).toEqual({
        espConnectionId: event.espConnectionId,
        syncRunId: event.syncRunId,
        trigger: 'manual',
      });
      await waitFor(
        async () => {
          const rows = await dataSource.query<Pick<JobRun, 'status'>[]>(
            'SELECT status FROM job_runs WHERE queue = $1 AND job_id = $2',
            [QUEUE.domainEvents, event.eventId],
          );
          return rows[0]?.status === 'completed';
        },
        { description: 'the audit row of the event job' },
      );

      expect(await worker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
      const messages = worker.logLines<{ msg?: string; queues?: unknown }>();
      const started = messages.find((line) => line.msg === 'workers started');
      expect(started?.queues).toEqual([
        { queue: QUEUE.domainEvents, concurrency: 2 },
        { queue: QUEUE.subscriberSync, concurrency: 2 },
        { queue: QUEUE.email, concurrency: 5 },
        { queue: QUEUE.schedulerTicks, concurrency: 1 },
        { queue: QUEUE.accountDeletion, concurrency: 1 },
        { queue: QUEUE.billing, concurrency: 5 },
      ]);
      expect(messages.some((line) => line.msg === 'domain event received')).toBe(true);
      expect(messages.some((line) => line.msg === 'workers stopped')).toBe(true);
    } finally {
      await events.close();
      await syncs.close();
      await dataSource.destroy();
    }
  });

  it('refuses to start with one line naming a malformed variable', async () => {
    const env = serviceEnv({ databaseUrl: database.url, queuePrefix: queues.prefix });
    const worker = await startService({
      entry: ENTRY,
      cwd: CWD,
      env: { ...env, REDIS_URL: 'localhost:6379' },
    });
    expect(await worker.exited).toEqual({ code: 1, signal: null });
    expect(worker.output().trim()).toBe(
      'worker: Invalid configuration: REDIS_URL must be a URL starting with redis:// or rediss://',
    );
  });
});
