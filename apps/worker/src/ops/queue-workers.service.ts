import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DiscoveryService } from '@nestjs/core';
import { EventEmitterReadinessWatcher } from '@nestjs/event-emitter';
import {
  bullmqConnection,
  closeRedisClient,
  describeJobError,
  QueueName,
  RedisErrorLog,
  WorkerEnv,
} from '@subscribernest/shared';
import { Job, Worker } from 'bullmq';
import { Cluster } from 'ioredis';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { assertEveryJobHasAHandler } from './job-handler-coverage';
import { inJobLogContext } from './job-log-context';
import { JobAuditListener } from './job-audit.listener';
import { JobHandback } from './job-handback';
import { withOwnLock } from './job-lock-keeper';
import { QueueProcessor } from './queue-processor';

/** The drain time when JOB_DRAIN_TIMEOUT_MS is unset, as a share of SHUTDOWN_TIMEOUT_MS. */
const DEFAULT_DRAIN_SHARE = 0.8;

/**
 * Owns the lifecycle of every BullMQ worker in this process (the QueueProcessor providers):
 *
 * - start-up: builds one BullMQ worker per QueueProcessor provider from the validated configuration
 *   through BullMQ's public options (concurrency, QUEUE_LOCK_DURATION_MS,
 *   QUEUE_STALLED_INTERVAL_MS, QUEUE_MAX_STALLED_COUNT; `autorun: false`), checks that each
 *   processed queue has a handler for every job name of the shared contract (otherwise the process
 *   stops with one message naming them), attaches the error log and the job audit, and only then
 *   starts the workers, once the whole application is initialised (the database connected, the
 *   `@OnEvent` listeners registered).
 * - shutdown (SIGTERM): before any connection closes, stops every worker from fetching, lets active
 *   jobs finish, waits for their audit rows, and only then lets Nest close the queues, Redis and
 *   Postgres. Once JOB_DRAIN_TIMEOUT_MS has passed, jobs that can stop at a safe point hand their
 *   job back to the queue (JobHandback), so the process exits 0 in time. The process watchdog
 *   (SHUTDOWN_TIMEOUT_MS) bounds the rest; a job cut off by it (or by SIGKILL) is handed back by
 *   BullMQ's stalled-job check once its lock expires, and runs again.
 */
@Injectable()
export class QueueWorkersService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private processors: QueueProcessor<QueueName>[] = [];
  /** On a Redis Cluster, each worker's own `Cluster`: BullMQ never closes a connection it was given. */
  private readonly clusters: Cluster[] = [];
  private started: Promise<void> = Promise.resolve();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly config: ConfigService<WorkerEnv, true>,
    private readonly eventEmitterReadiness: EventEmitterReadinessWatcher,
    private readonly audit: JobAuditListener,
    private readonly handback: JobHandback,
    private readonly errors: RedisErrorLog,
    @InjectPinoLogger(QueueWorkersService.name) private readonly logger: PinoLogger,
  ) {}

  /** The BullMQ workers of this process, one per processed queue. */
  get workers(): Worker[] {
    return this.processors.map((processor) => processor.worker);
  }

  /** The queues this worker processes. */
  get queues(): string[] {
    return this.workers.map((worker) => worker.name);
  }

  onApplicationBootstrap(): void {
    const processors = this.discovery
      .getProviders()
      .map((wrapper) => wrapper.instance as unknown)
      .filter(
        (instance): instance is QueueProcessor<QueueName> => instance instanceof QueueProcessor,
      );

    assertEveryJobHasAHandler(
      processors.map((processor) => ({
        queue: processor.queue,
        declaredQueue: processor.queue,
        jobNames: processor.handledJobNames(),
      })),
    );

    for (const processor of processors) {
      const worker = this.buildWorker(processor);
      worker.on('error', this.errors.listener(`worker ${worker.name}`));
      this.audit.watch(worker);
      processor.attach(worker);
    }
    this.processors = processors;
    // Not awaited: the event listeners are registered by another module's bootstrap hook, which
    // may run after this one. The workers start as soon as they are.
    this.started = this.start();
  }

  /** Resolves once every worker has been started (tests wait on it). */
  whenStarted(): Promise<void> {
    return this.started;
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    if (this.processors.length === 0) return;
    const drainMs = this.drainTimeoutMs();
    this.logger.info(
      { signal, queues: this.queues, drainMs },
      'stopping workers: no new jobs, waiting for active ones to finish',
    );
    const handBack = setTimeout(() => {
      this.logger.warn(
        { drainMs },
        'drain time is up: asking active jobs to hand their job back to the queue',
      );
      this.handback.request();
    }, drainMs);
    // Half of what the drain leaves of SHUTDOWN_TIMEOUT_MS, so the rest of shutdown still fits.
    const closeMs =
      drainMs + Math.floor((this.config.get('SHUTDOWN_TIMEOUT_MS', { infer: true }) - drainMs) / 2);
    try {
      await Promise.all(
        this.processors.map((processor) => this.closeWithin(processor.worker, closeMs)),
      );
    } finally {
      clearTimeout(handBack);
    }
    await this.audit.drain();
    await Promise.all(this.clusters.splice(0).map((cluster) => closeRedisClient(cluster)));
    this.logger.info({ queues: this.queues }, 'workers stopped');
  }

  /**
   * `worker.close()`, bounded. A BullMQ worker whose Redis client is wedged (a promise of the
   * client that never settles) never finishes closing, and the process watchdog would then exit 1
   * for all the others. Past `ms` its connections are dropped instead: a job it still held returns
   * through the stalled-job check, as after a crash.
   */
  private async closeWithin(worker: Worker, ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<true>((resolve) => {
      timer = setTimeout(() => resolve(true), ms);
    });
    const closed = worker.close().then(
      () => false as const,
      (error: unknown) => {
        this.logger.error(
          { queue: worker.name, error: describeJobError(error) },
          'worker did not close cleanly',
        );
        return false as const;
      },
    );
    try {
      if (!(await Promise.race([closed, timedOut]))) return;
    } finally {
      clearTimeout(timer);
    }
    this.logger.error(
      { queue: worker.name, closeMs: ms },
      'worker did not close in time: dropping its Redis connections',
    );
    void worker.disconnect().catch(() => undefined);
    void worker.waitUntilReady().then(
      (blocking) => blocking.disconnect(),
      () => undefined,
    );
  }

  /** How long shutdown lets active jobs run before asking them to hand back. */
  private drainTimeoutMs(): number {
    return (
      this.config.get('JOB_DRAIN_TIMEOUT_MS', { infer: true }) ??
      Math.floor(this.config.get('SHUTDOWN_TIMEOUT_MS', { infer: true }) * DEFAULT_DRAIN_SHARE)
    );
  }

  /** The BullMQ worker of `processor`, stopped until `start()`, from the validated configuration. */
  private buildWorker(processor: QueueProcessor<QueueName>): Worker {
    const lockDuration = this.config.get('QUEUE_LOCK_DURATION_MS', { infer: true });
    const process = (job: Job, token?: string) =>
      withOwnLock(job, token, lockDuration, () =>
        inJobLogContext(this.logger.logger, job, () => processor.process(job, token)),
      );
    // One server: options, and BullMQ opens this worker's connections. A cluster: a `Cluster` of
    // this worker's own (BullMQ duplicates it for the blocking connection), closed after it.
    const connection = bullmqConnection(this.config.get('REDIS_URL', { infer: true }), 'worker');
    if (connection instanceof Cluster) this.clusters.push(connection);
    return new Worker(processor.queue, process, {
      connection,
      prefix: this.config.get('QUEUE_PREFIX', { infer: true }),
      autorun: false,
      concurrency: this.config.get(processor.concurrencySetting, { infer: true }),
      lockDuration,
      lockRenewTime: lockDuration / 2,
      stalledInterval: this.config.get('QUEUE_STALLED_INTERVAL_MS', { infer: true }),
      maxStalledCount: this.config.get('QUEUE_MAX_STALLED_COUNT', { infer: true }),
    });
  }

  private async start(): Promise<void> {
    try {
      await this.eventEmitterReadiness.waitUntilReady();
    } catch (error) {
      this.logger.fatal(
        { error: describeJobError(error) },
        'event listeners failed to register: not starting any worker',
      );
      return;
    }
    for (const processor of this.processors) this.run(processor.worker);
    this.logger.info(
      {
        queues: this.processors.map((processor) => ({
          queue: processor.worker.name,
          concurrency: processor.worker.concurrency,
        })),
        lockDurationMs: this.config.get('QUEUE_LOCK_DURATION_MS', { infer: true }),
        stalledIntervalMs: this.config.get('QUEUE_STALLED_INTERVAL_MS', { infer: true }),
        maxStalledCount: this.config.get('QUEUE_MAX_STALLED_COUNT', { infer: true }),
      },
      'workers started',
    );
  }

  private run(worker: Worker): void {
    worker.run().catch((error: unknown) => {
      this.logger.fatal(
        { queue: worker.name, error: describeJobError(error) },
        'worker stopped unexpectedly',
      );
    });
  }
}
