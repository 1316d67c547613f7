import { Processor, WorkerHost } from '@nestjs/bullmq';
import { QueueName, WorkerEnv } from '@subscribernest/shared';
import { Job } from 'bullmq';
import { dispatch, JobHandlers } from './job-handlers';

/** The WorkerEnv settings that hold a queue's concurrency. */
export type ConcurrencySetting = {
  [K in keyof WorkerEnv]: K extends `${string}_CONCURRENCY` ? K : never;
}[keyof WorkerEnv];

/**
 * `@Processor` for a QueueProcessor: the BullMQ worker is created stopped (`autorun: false`);
 * QueueWorkersService starts it once the application is fully initialised.
 */
export function QueueWorker(queue: QueueName): ClassDecorator {
  return Processor(queue, { autorun: false });
}

/**
 * Base of every processor in the worker. A subclass names its queue, the WorkerEnv setting of its
 * concurrency, and a typed handler map; it stays a thin mapping from job names to service calls.
 *
 * ```ts
 * @QueueWorker(QUEUE.subscriberSync)
 * export class SubscriberSyncProcessor extends QueueProcessor<typeof QUEUE.subscriberSync> {
 *   readonly queue = QUEUE.subscriberSync;
 *   readonly concurrencySetting = 'SUBSCRIBER_SYNC_CONCURRENCY';
 *   protected readonly handlers: JobHandlers<typeof QUEUE.subscriberSync> = {
 *     [JOB.syncPublication]: (data, job, token) => this.sync.run(data, job, token),
 *   };
 * }
 * ```
 *
 * Start-up (QueueWorkersService) fails when the handler map misses a job name of the shared
 * contract, and the job audit (`job_runs`) is attached to every such worker in one place.
 */
export abstract class QueueProcessor<Q extends QueueName> extends WorkerHost {
  abstract readonly queue: Q;
  abstract readonly concurrencySetting: ConcurrencySetting;
  protected abstract readonly handlers: JobHandlers<Q>;

  /** The job names this processor has a handler for. */
  handledJobNames(): string[] {
    return Object.keys(this.handlers);
  }

  process(job: Job, token?: string): Promise<unknown> {
    return dispatch(this.queue, this.handlers, job, token);
  }
}
