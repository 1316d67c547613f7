import { InjectQueue } from '@nestjs/bullmq';
import {
  BeforeApplicationShutdown,
  Injectable,
  OnModuleInit,
  ServiceUnavailableException,
} from '@nestjs/common';
import { QUEUE, withTimeout } from '@subscribernest/shared';
import { Queue } from 'bullmq';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { ENQUEUE_TIMEOUT_MS } from '../queues/queue-producer.service';

/** Queues the admin routes and Bull Board open on top of the ones the api produces to. */
export const ADMIN_ONLY_QUEUES = [
  QUEUE.subscriberSync,
  QUEUE.billing,
  QUEUE.accountDeletion,
  QUEUE.schedulerTicks,
] as const;

const ERROR_LOG_INTERVAL_MS = 30_000;

/**
 * Every queue by name for the admin routes (dead-letter retries, manual cron ticks), with Redis
 * calls bounded in time: Redis down is a 503, never a hung request.
 */
@Injectable()
export class AdminQueuesService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly queues: Map<string, Queue>;
  /** The queues this module opened (the others belong to ApiQueuesModule). */
  private readonly own: Queue[];
  private readonly lastErrorLog = new Map<string, number>();

  constructor(
    @InjectQueue(QUEUE.email) email: Queue,
    @InjectQueue(QUEUE.domainEvents) domainEvents: Queue,
    @InjectQueue(QUEUE.subscriberSync) subscriberSync: Queue,
    @InjectQueue(QUEUE.billing) billing: Queue,
    @InjectQueue(QUEUE.accountDeletion) accountDeletion: Queue,
    @InjectQueue(QUEUE.schedulerTicks) readonly schedulerTicks: Queue,
    @InjectPinoLogger(AdminQueuesService.name) private readonly logger: PinoLogger,
  ) {
    this.own = [subscriberSync, billing, accountDeletion, schedulerTicks];
    this.queues = new Map(
      [email, domainEvents, ...this.own].map((queue): [string, Queue] => [queue.name, queue]),
    );
  }

  onModuleInit(): void {
    for (const queue of this.own) {
      queue.on('error', (error: Error) => this.logConnectionError(queue.name, error));
    }
  }

  /** See QueueProducerService: lets a disconnected client end instead of failing shutdown. */
  async beforeApplicationShutdown(): Promise<void> {
    for (const queue of this.own) {
      const client = await Promise.race([queue.client, Promise.resolve(undefined)]).catch(
        () => undefined,
      );
      if (client && client.status !== 'ready') client.options.enableOfflineQueue = true;
    }
  }

  get(name: string): Queue | undefined {
    return this.queues.get(name);
  }

  /**
   * Runs `call` once `queue` is connected, each step within ENQUEUE_TIMEOUT_MS. Anything `call`
   * throws is taken for a Redis failure and answered 503: callers turn the outcomes they expect
   * into return values inside `call`.
   */
  async call<T>(queue: Queue, what: string, call: () => Promise<T>): Promise<T> {
    try {
      await withTimeout(queue.waitUntilReady(), ENQUEUE_TIMEOUT_MS, 'connecting to Redis');
      return await withTimeout(call(), ENQUEUE_TIMEOUT_MS, what);
    } catch (error) {
      const err = { type: (error as Error).name, message: (error as Error).message };
      this.logger.warn({ queue: queue.name, err }, `Redis failed while ${what}`);
      throw new ServiceUnavailableException(
        'The job queue (Redis) is unavailable; try again later',
      );
    }
  }

  /**
   * Resolves once every queue's connection answers a PING, each step within ENQUEUE_TIMEOUT_MS;
   * otherwise 503 with `message`. For Bull Board, whose own Redis calls are not bounded in time.
   */
  async assertRedisAvailable(what: string, message: string): Promise<void> {
    try {
      await Promise.all(
        [...this.queues.values()].map(async (queue) => {
          await withTimeout(queue.waitUntilReady(), ENQUEUE_TIMEOUT_MS, 'connecting to Redis');
          const client = await queue.client;
          await withTimeout(client.runCommand('ping', []), ENQUEUE_TIMEOUT_MS, 'PING');
        }),
      );
    } catch (error) {
      this.logConnectionError(what, error as Error);
      throw new ServiceUnavailableException(message);
    }
  }

  private logConnectionError(queue: string, error: Error): void {
    const now = Date.now();
    if (now - (this.lastErrorLog.get(queue) ?? 0) < ERROR_LOG_INTERVAL_MS) return;
    this.lastErrorLog.set(queue, now);
    this.logger.warn({ queue, err: { type: error.name, message: error.message } }, 'Redis error');
  }
}
