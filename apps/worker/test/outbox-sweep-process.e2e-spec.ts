import { resolve } from 'node:path';
import { DEFAULT_JOB_OPTIONS, JOB, QUEUE, runMigrations } from '@subscribernest/shared';
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
import { outboxRow, writeUnpublishedSyncRequest } from './support/outbox-rows';

const ENTRY = resolve(__dirname, '../dist/main.js');
const CWD = resolve(__dirname);

describe('worker process: outbox sweep', () => {
  let database: TestDatabase;
  let queues: TestQueuePrefix;
  let dataSource: DataSource;
  let syncs: Queue;

  beforeAll(async () => {
    database = await createTestDatabase({ setup: runMigrations });
    queues = createTestQueuePrefix();
    dataSource = new DataSource({ type: 'postgres', url: database.url });
    await dataSource.initialize();
    syncs = new Queue(QUEUE.subscriberSync, {
      connection: { url: testRedisUrl() },
      prefix: queues.prefix,
      defaultJobOptions: DEFAULT_JOB_OPTIONS[QUEUE.subscriberSync],
    });
  });

  afterAll(async () => {
    await syncs?.close();
    await dataSource?.destroy();
    await database?.drop();
    await queues?.cleanup();
  });

  it('delivers an event the api could not publish once the worker starts, and stops cleanly', async () => {
    // Accepted while Redis (or the worker) was down: only the outbox row exists.
    const event = await writeUnpublishedSyncRequest(dataSource);

    const opsPort = await freePort();
    const worker = await startService({
      entry: ENTRY,
      cwd: CWD,
      env: serviceEnv({
        databaseUrl: database.url,
        queuePrefix: queues.prefix,
        extra: { OPS_PORT: String(opsPort), OUTBOX_SWEEP_INTERVAL_MS: '200' },
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
    // The sweep adds the job, then marks the row published: the job can be seen a moment first.
    const published = await waitFor(
      async () => {
        const row = await outboxRow(dataSource, event.eventId);
        return row?.publishedAt ? row : undefined;
      },
      { description: 'the outbox row marked published' },
    );
    expect(published).toMatchObject({
      publishAttempts: 1,
      lastError: null,
      publishedAt: expect.any(Date) as Date,
    });

    expect(await worker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const messages = worker.logLines<{ msg?: string; published?: number }>();
    expect(messages.some((line) => line.msg === 'outbox sweep scheduled')).toBe(true);
    expect(messages.find((line) => line.msg === 'outbox swept')?.published).toBe(1);
  });
});
