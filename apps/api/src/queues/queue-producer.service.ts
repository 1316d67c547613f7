import { InjectQueue } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Injectable, OnModuleInit } from '@nestjs/common';
import { JobNameOf, JobPayloads, QUEUE, withTimeout } from '@subscribernest/shared';
import { Queue } from 'bullmq';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { QueueUnavailableError } from './queue-unavailable.error';

/** The queues the api produces to (it never consumes). */
export const PRODUCED_QUEUES = [QUEUE.email, QUEUE.domainEvents] as const;
export type ProducedQueue = (typeof PRODUCED_QUEUES)[number];

/** How long a request waits for Redis before it gives up on enqueueing. */
export const ENQUEUE_TIMEOUT_MS = 3_000;
/** Redis connection errors repeat on every reconnect attempt; log them this often at most. */
const ERROR_LOG_INTERVAL_MS = 30_000;

/**
 * Typed enqueueing for the api: a job name and payload must match the shared contract of the
 * queue, the job id is always given (deterministic, so a retry never duplicates a job), and a
 * Redis outage is a QueueUnavailableError within ENQUEUE_TIMEOUT_MS instead of a hung request.
 */
@Injectable()
export class QueueProducerService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly queues: Record<ProducedQueue, Queue>;
  private readonly lastErrorLog = new Map<string, number>();

  constructor(
    @InjectQueue(QUEUE.email) email: Queue,
    @InjectQueue(QUEUE.domainEvents) domainEvents: Queue,
    @InjectPinoLogger(QueueProducerService.name) private readonly logger: PinoLogger,
  ) {
    this.queues = { [QUEUE.email]: email, [QUEUE.domainEvents]: domainEvents };
  }

  onModuleInit(): void {
    // Without a listener BullMQ prints connection errors to stderr, outside the JSON logs.
    for (const queue of Object.values(this.queues)) {
      queue.on('error', (error: Error) => this.logConnectionError(queue.name, error));
    }
  }

  /**
   * BullMQ closes a queue with QUIT, which ioredis rejects while disconnected when the offline
   * queue is off (our producer setting), failing the app's shutdown during a Redis outage. With
   * the offline queue on, QUIT on a disconnected client simply ends it.
   */
  async beforeApplicationShutdown(): Promise<void> {
    for (const queue of Object.values(this.queues)) {
      // A client still connecting for the first time is closed by disconnecting: leave it be.
      const client = await Promise.race([queue.client, Promise.resolve(undefined)]).catch(
        () => undefined,
      );
      if (client && client.status !== 'ready') client.options.enableOfflineQueue = true;
    }
  }

  async add<Q extends ProducedQueue, N extends JobNameOf<Q> & keyof JobPayloads>(
    queueName: Q,
    name: N,
    data: JobPayloads[N],
    jobId: string,
  ): Promise<void> {
    const queue = this.queues[queueName];
    try {
      // A queue created while Redis was down waits for it forever: bound that wait, and only
      // add once connected, so a job is never added behind a request that already gave up.
      await withTimeout(queue.waitUntilReady(), ENQUEUE_TIMEOUT_MS, 'connecting to Redis');
      await withTimeout(queue.add(name, data, { jobId }), ENQUEUE_TIMEOUT_MS, 'adding the job');
    } catch (error) {
      throw new QueueUnavailableError(queueName, (error as Error).message);
    }
  }

  private logConnectionError(queue: string, error: Error): void {
    const now = Date.now();
    if (now - (this.lastErrorLog.get(queue) ?? 0) < ERROR_LOG_INTERVAL_MS) return;
    this.lastErrorLog.set(queue, now);
    this.logger.warn({ queue, err: { type: error.name, message: error.message } }, 'Redis error');
  }
}
