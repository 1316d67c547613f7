/**
 * The midnight fan-out through the built worker (apps/worker/dist/main.js, a child process of its
 * own per size) against the raw limit of its Redis side, measured in the same run:
 *
 *   raw     BullMQ `addBulk` of the same jobs (same payload shape, same deterministic ids, the
 *           queue's deployed job options: attempts, backoff, retention) in pages of 1,000 from
 *           this process: the least any fan-out has to do in Redis;
 *   bare    the same without job options (what the first version of this bench measured), for
 *           reference: the options are part of every job the worker adds;
 *   fanout  a manual midnight-sync tick: pages of active connections, their sync runs created in
 *           one transaction per page, each page's jobs added with `addBulk`.
 *
 * The subscriber-sync queue is paused first, so the worker runs no sync while it fans out. Prints
 * jobs/s for both, fanout/raw, and the worker's peak RSS at the small and the large size (a
 * fan-out that pages stays ≈ flat whatever the number of connections).
 *
 *   npm run bench -- fanout                               10,000 vs 100,000 connections
 *   npm run bench -- fanout --small 10000 --large 100000
 *
 * Needs Postgres and Redis (scripts/services.sh) and the worker built (the npm script builds it).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  DEFAULT_JOB_OPTIONS,
  EncryptionService,
  JOB,
  QUEUE,
  runCronJobId,
  runMigrations,
  CRON,
} from '@subscribernest/shared';
import {
  createTestDatabase,
  createTestQueuePrefix,
  freePort,
  serviceEnv,
  startService,
  testRedisUrl,
  testSecrets,
} from '@subscribernest/testkit';
import { Queue } from 'bullmq';
import { DEPLOYED_WORKER_NODE_ARGS } from './bench-worker';
import { Client } from 'pg';
import { cpuProfileArgs, extraNodeArgs, flag, rssOf } from './bench-args';
import { report } from './bench-report';

const WORKER_ENTRY = join(__dirname, '../../apps/worker/dist/main.js');
const PAGE = 1_000;

interface SizeResult {
  size: number;
  rawJobsPerSecond: number;
  bareJobsPerSecond: number;
  fanoutJobsPerSecond: number;
  fanoutSeconds: number;
  workerPeakRssMb: number;
}

/** `size` sync-publication jobs added to `queue` in pages of PAGE; the seconds it took. */
async function addInPages(queue: Queue, size: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let offset = 0; offset < size; offset += PAGE) {
    const count = Math.min(PAGE, size - offset);
    await queue.addBulk(
      Array.from({ length: count }, () => {
        const syncRunId = randomUUID();
        return {
          name: JOB.syncPublication,
          data: {
            espConnectionId: randomUUID(),
            syncRunId,
            trigger: 'scheduled',
            correlationId: randomUUID(),
          },
          opts: { jobId: syncRunId },
        };
      }),
    );
  }
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function measure(size: number): Promise<SizeResult> {
  const database = await createTestDatabase({ prefix: 'sn_bench', setup: runMigrations });
  const queues = createTestQueuePrefix();
  const secrets = testSecrets();
  const encryption = EncryptionService.fromSettings(secrets);
  const db = new Client({ connectionString: database.url });
  await db.connect();
  const connection = { url: testRedisUrl() };
  const syncQueue = new Queue(QUEUE.subscriberSync, { connection, prefix: queues.prefix });
  const rawQueue = new Queue('bench-raw-fanout', {
    connection,
    prefix: queues.prefix,
    defaultJobOptions: DEFAULT_JOB_OPTIONS[QUEUE.subscriberSync],
  });
  const bareQueue = new Queue('bench-bare-fanout', { connection, prefix: queues.prefix });
  const ticks = new Queue(QUEUE.schedulerTicks, { connection, prefix: queues.prefix });
  try {
    const {
      rows: [owner],
    } = await db.query<{ id: string }>(
      `INSERT INTO users (email) VALUES ('bench-owner@example.com') RETURNING id`,
    );
    await db.query(
      `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id)
       SELECT $1, 'beehiiv', $2, 'pub-' || g FROM generate_series(1, $3) AS g`,
      [owner.id, encryption.encrypt('bench-key'), size],
    );
    await db.query('ANALYZE');

    // The same jobs, in the same pages, straight into queues of their own (raw after bare, so
    // the compared one meets the fuller Redis).
    const bareSeconds = await addInPages(bareQueue, size);
    const rawSeconds = await addInPages(rawQueue, size);

    await syncQueue.pause();
    const opsPort = await freePort();
    const worker = await startService({
      entry: WORKER_ENTRY,
      env: serviceEnv({
        databaseUrl: database.url,
        queuePrefix: queues.prefix,
        extra: { ...secrets, LOG_LEVEL: 'warn', OPS_PORT: String(opsPort), CRONS_ENABLED: 'false' },
      }),
      readyUrl: `http://127.0.0.1:${opsPort}/health`,
      nodeArgs: [...DEPLOYED_WORKER_NODE_ARGS, ...extraNodeArgs(), ...cpuProfileArgs()],
    });
    try {
      const requestedAt = new Date();
      await ticks.add(
        JOB.runCron,
        { name: CRON.midnightSync, requestedBy: 'bench', requestedAt: requestedAt.toISOString() },
        { jobId: runCronJobId(CRON.midnightSync, requestedAt) },
      );
      for (;;) {
        const {
          rows: [tick],
        } = await db.query<{ status: string; seconds: number; queued: number; error: string }>(
          `SELECT status, queued_count AS queued, error,
                  extract(epoch FROM finished_at - started_at)::float AS seconds
             FROM cron_runs WHERE name = $1`,
          [CRON.midnightSync],
        );
        if (tick?.status === 'failed') throw new Error(`the tick failed: ${tick.error}`);
        if (tick?.status === 'completed') {
          if (tick.queued !== size) throw new Error(`queued ${tick.queued} of ${size}`);
          const counts = await syncQueue.getJobCounts('paused', 'waiting');
          if (counts.paused + counts.waiting !== size) {
            throw new Error(`${counts.paused + counts.waiting} jobs in the queue, not ${size}`);
          }
          return {
            size,
            rawJobsPerSecond: size / rawSeconds,
            bareJobsPerSecond: size / bareSeconds,
            fanoutJobsPerSecond: size / tick.seconds,
            fanoutSeconds: tick.seconds,
            workerPeakRssMb: rssOf(worker.pid).peak,
          };
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await worker.stop();
    }
  } finally {
    await Promise.all([syncQueue.close(), rawQueue.close(), bareQueue.close(), ticks.close()]);
    await db.end();
    await queues.cleanup();
    await database.drop();
  }
}

async function main(): Promise<void> {
  const small = Number(flag('small', '10000'));
  const large = Number(flag('large', '100000'));
  console.log(
    `Midnight fan-out benchmark: ${small.toLocaleString('en-US')} and ` +
      `${large.toLocaleString('en-US')} active connections`,
  );
  const results = [await measure(small), await measure(large)];
  console.log(
    'connections  bare jobs/s  raw jobs/s  fanout jobs/s  fanout s  fanout/raw  worker peak RSS MB',
  );
  for (const r of results) {
    console.log(
      `${String(r.size).padStart(11)}  ${r.bareJobsPerSecond.toFixed(0).padStart(11)}  ` +
        `${r.rawJobsPerSecond.toFixed(0).padStart(10)}  ` +
        `${r.fanoutJobsPerSecond.toFixed(0).padStart(13)}  ${r.fanoutSeconds.toFixed(2).padStart(8)}  ` +
        `${(r.fanoutJobsPerSecond / r.rawJobsPerSecond).toFixed(2).padStart(10)}  ` +
        `${r.workerPeakRssMb.toFixed(1).padStart(18)}`,
    );
  }
  const [s, l] = results;
  console.log(
    `fanout/raw at ${l.size.toLocaleString('en-US')}: ` +
      `${(l.fanoutJobsPerSecond / l.rawJobsPerSecond).toFixed(2)} (target ≥ 0.7; against bare ` +
      `addBulk ${(l.fanoutJobsPerSecond / l.bareJobsPerSecond).toFixed(2)}); worker peak RSS ` +
      `${l.size.toLocaleString('en-US')}/${s.size.toLocaleString('en-US')}: ` +
      `${(l.workerPeakRssMb / s.workerPeakRssMb).toFixed(2)} (flat ≈ 1)`,
  );
  report({
    bench: 'fanout',
    results,
    fanoutToRaw: l.fanoutJobsPerSecond / l.rawJobsPerSecond,
    fanoutToBare: l.fanoutJobsPerSecond / l.bareJobsPerSecond,
    peakRssLargeToSmall: l.workerPeakRssMb / s.workerPeakRssMb,
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
