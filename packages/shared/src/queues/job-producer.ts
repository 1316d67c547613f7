import { BeforeApplicationShutdown, Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { JobsOptions, Queue } from 'bullmq';
import { RedisErrorLog } from '../redis/redis-error-log';
import { withTimeout } from '../redis/with-timeout';
import { QUEUE_JOBS } from './job-names';
import { JobPayloads } from './job-payloads';
import { QueueName } from './queue-names';
import { QueueUnavailableError } from './queue-unavailable.error';

/** Every job (and event) name a producer may add, each carried by exactly one queue. */
export type ProducibleJob = keyof JobPayloads;

/** How long one Redis step (connecting, then the call) may take before a producer gives up. */
export const ENQUEUE_TIMEOUT_MS = 3_000;
/** The same for an `addBulk` (a page of up to a thousand jobs). */
export const ENQUEUE_BULK_TIMEOUT_MS = 15_000;

/** The Queue instances of JobQueuesModule, in QUEUE_NAMES order. */
export const JOB_QUEUES = Symbol('JOB_QUEUES');

const QUEUE_OF_JOB = new Map<string, QueueName>(
  Object.entries(QUEUE_JOBS).flatMap(([queue, names]) =>
    names.map((name): [string, QueueName] => [name, queue as QueueName]),
  ),
);

/** The queue that carries `name`, from the shared contract (QUEUE_JOBS). */
export function queueOfJob(name: ProducibleJob): QueueName {
  const queue = QUEUE_OF_JOB.get(name);
  if (!queue) throw new Error(`job "${name}" is on no queue of the shared contract`);
  return queue;
}

/**
 * The one producer of both apps (api routes, the outbox relay, admin routes, worker listeners and
 * crons): the queue is derived from the job name, the payload is typed by the shared contract, the
 * job id is always given (deterministic, so adding twice is harmless), and every Redis step is
 * bounded in time — a Redis outage is a QueueUnavailableError within seconds, never a hung
 * request or cron. Connection errors go to the process's one RedisErrorLog.
 */
@Injectable()
export class JobProducer implements OnModuleInit, BeforeApplicationShutdown {
  private readonly queues: ReadonlyMap<string, Queue>;

  constructor(
    @Inject(JOB_QUEUES) queues: Queue[],
    private readonly errors: RedisErrorLog,
  ) {
    this.queues = new Map(queues.map((queue): [string, Queue] => [queue.name, queue]));
  }

  onModuleInit(): void {
    for (const queue of this.queues.values()) {
      queue.on('error', this.errors.listener(`queue ${queue.name}`));
    }
  }

  /**
   * BullMQ closes a queue with QUIT, which ioredis rejects while disconnected when the offline
   * queue is off (the api's producer setting), failing shutdown during a Redis outage. With the
   * offline queue on, QUIT on a disconnected client simply ends it.
   */
  async beforeApplicationShutdown(): Promise<void> {
    for (const queue of this.queues.values()) {
      // A client still connecting for the first time is closed by disconnecting: leave it be.
      const client = await Promise.race([queue.client, Promise.resolve(undefined)]).catch(
        () => undefined,
      );
      if (client && client.status !== 'ready') client.options.enableOfflineQueue = true;
    }
  }

  /** Every queue, by name (Bull Board, admin reads). */
  get all(): Queue[] {
    return [...this.queues.values()];
  }

  /** The queue named `name`, or undefined when it is not one of ours. */
  find(name: string): Queue | undefined {
    return this.queues.get(name);
  }

  async add<N extends ProducibleJob>(
    name: N,
    data: JobPayloads[N],
    jobId: string,
    options: Omit<JobsOptions, 'jobId'> = {},
  ): Promise<void> {
    await this.call(queueOfJob(name), `adding a ${name} job`, (queue) =>
      queue.add(name, data, { ...options, jobId }),
    );
  }

  /** One `addBulk` of `name` jobs; a job whose id exists already is left as it is. */
  async addBulk<N extends ProducibleJob>(
    name: N,
    jobs: { data: JobPayloads[N]; jobId: string }[],
  ): Promise<void> {
    if (jobs.length === 0) return;
    await this.call(
      queueOfJob(name),
      `adding ${jobs.length} ${name} jobs`,
      (queue) =>
        queue.addBulk(jobs.map((job) => ({ name, data: job.data, opts: { jobId: job.jobId } }))),
      ENQUEUE_BULK_TIMEOUT_MS,
    );
  }

  /**
   * Runs `call` on `queueName` once it is connected, each step within `timeoutMs`. Anything it
   * throws is taken for a Redis failure (QueueUnavailableError): callers turn the outcomes they
   * expect into return values inside `call`.
   */
  async call<T>(
    queueName: QueueName,
    what: string,
    call: (queue: Queue) => Promise<T>,
    timeoutMs = ENQUEUE_TIMEOUT_MS,
  ): Promise<T> {
    const queue = this.queues.get(queueName);
    if (!queue) throw new Error(`queue "${queueName}" is not registered in JobQueuesModule`);
    try {
      // A queue created while Redis was down waits for it forever: bound that wait, and only
      // call once connected, so a job is never added behind a caller that already gave up.
      await withTimeout(queue.waitUntilReady(), timeoutMs, 'connecting to Redis');
      return await withTimeout(call(queue), timeoutMs, what);
    } catch (error) {
      throw new QueueUnavailableError(queueName, (error as Error).message);
    }
  }

  /** Resolves once every queue's connection answers a PING in time; QueueUnavailableError otherwise. */
  async ping(): Promise<void> {
    await Promise.all(
      this.all.map((queue) =>
        this.call(queue.name as QueueName, 'PING', async (ready) => {
          const client = await ready.client;
          // On a Redis Cluster a PING goes to any node: read one of the queue's keys instead,
          // which goes to the master of the queue's slot, where the board's own calls go.
          if (client.isCluster) await client.runCommand('exists', [ready.keys.meta]);
          else await client.runCommand('ping', []);
        }),
      ),
    );
  }
}
