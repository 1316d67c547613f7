import { DynamicModule, INestApplicationContext, Provider } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  DEFAULT_JOB_OPTIONS,
  QueueName,
  runMigrations,
  validatedConfigModule,
  WorkerEnv,
} from '@subscribernest/shared';
import {
  createTestDatabase,
  createTestQueuePrefix,
  freePort,
  serviceEnv,
  TestDatabase,
  TestQueuePrefix,
  testRedisUrl,
  waitFor,
} from '@subscribernest/testkit';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { QueueWorkersService } from '../../src/ops/queue-workers.service';
import { WorkerModule } from '../../src/worker.module';

export interface TestWorkerOptions {
  /** Extra or overridden environment variables. */
  env?: Record<string, string>;
  /** Test-only modules and providers (probe processors, listeners) next to the real ones. */
  imports?: DynamicModule[];
  providers?: Provider[];
}

export interface TestWorker {
  app: INestApplicationContext;
  env: Record<string, string>;
  dataSource: DataSource;
  /** A producer on one of the worker's queues (same Redis and prefix, shared job options). */
  queue<T = unknown>(name: QueueName): Queue<T>;
  close(): Promise<void>;
}

/**
 * The real worker (WorkerModule, as main.ts builds it) on its own freshly migrated database and
 * BullMQ prefix, with real Postgres and Redis; resolves once its BullMQ workers run. One per test
 * file.
 */
export async function startTestWorker(options: TestWorkerOptions = {}): Promise<TestWorker> {
  const database: TestDatabase = await createTestDatabase({ setup: runMigrations });
  const queues: TestQueuePrefix = createTestQueuePrefix();
  const env = serviceEnv({
    databaseUrl: database.url,
    queuePrefix: queues.prefix,
    extra: {
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      OPS_PORT: String(await freePort()),
      ...options.env,
    },
  });
  Object.assign(process.env, env);

  const producers = new Map<QueueName, Queue>();
  const cleanup = async () => {
    await Promise.all([...producers.values()].map((queue) => queue.close()));
    await database.drop();
    await queues.cleanup();
  };

  const app = await Test.createTestingModule({
    imports: [
      WorkerModule.forRoot(await validatedConfigModule(WorkerEnv)),
      ...(options.imports ?? []),
    ],
    providers: options.providers ?? [],
  }).compile();
  try {
    await app.init();
  } catch (error) {
    // Nest's close() first awaits the failed initialisation and rethrows, leaving every connection
    // open; in production the process exits instead. Let it run the shutdown hooks.
    (app as unknown as { initializationPromise?: Promise<void> }).initializationPromise = undefined;
    await app.close();
    await cleanup();
    throw error;
  }
  const workers = app.get(QueueWorkersService);
  await workers.whenStarted();
  // BullMQ arms a worker's stalled-job timer a moment after run(); a close() before that leaves a
  // 30 s timer behind (jest would wait for it). Hand the worker over once it is armed.
  await waitFor(
    () =>
      workers.workers.every(
        (worker) => (worker as unknown as { stalledCheckStopper?: unknown }).stalledCheckStopper,
      ),
    { description: 'the BullMQ workers to be running' },
  );

  return {
    app,
    env,
    dataSource: app.get(DataSource),
    queue: <T>(name: QueueName) => {
      let queue = producers.get(name);
      if (!queue) {
        queue = new Queue(name, {
          connection: { url: testRedisUrl() },
          prefix: queues.prefix,
          defaultJobOptions: DEFAULT_JOB_OPTIONS[name],
        });
        producers.set(name, queue);
      }
      return queue as Queue<T>;
    },
    close: async () => {
      await app.close();
      await cleanup();
    },
  };
}
