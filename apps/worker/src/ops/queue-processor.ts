import { Injectable } from '@nestjs/common';
import { QueueName, WorkerEnv } from '@subscribernest/shared';
import { Job, Worker } from 'bullmq';
import { dispatch, JobHandlers } from './job-handlers';

/** The WorkerEnv settings that hold a queue's concurrency. */
export type ConcurrencySetting = {
  [K in keyof WorkerEnv]: K extends `${string}_CONCURRENCY` ? K : never;
}[keyof WorkerEnv];

/**
 * Marks a QueueProcessor provider. QueueWorkersService finds every one, builds its BullMQ worker
 * from the validated configuration (BullMQ's public options only) and starts it once the
 * application is fully initialised. `queue` is the processor's `queue`, repeated here so the
 * queue a class processes reads at its top.
 */
export function QueueWorker(queue: QueueName): ClassDecorator {
  void queue;
  return Injectable();
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
export abstract class QueueProcessor<Q extends QueueName> {
  abstract readonly queue: Q;
  abstract readonly concurrencySetting: ConcurrencySetting;
  protected abstract readonly handlers: JobHandlers<Q>;
  private attached: Worker | undefined;

  /** The BullMQ worker running this processor (set by QueueWorkersService before it starts). */
  get worker(): Worker {
    if (!this.attached) throw new Error(`the worker of queue "${this.queue}" is not built yet`);
    return this.attached;
  }

  attach(worker: Worker): void {
    this.attached = worker;
    this.onWorker(worker);
  }

  /** For a processor that listens to its worker's events (e.g. to reconcile jobs that died). */
  protected onWorker(worker: Worker): void {
    void worker;
  }

  /** The job names this processor has a handler for. */
  handledJobNames(): string[] {
    return Object.keys(this.handlers);
  }

  process(job: Job, token?: string): Promise<unknown> {
    return dispatch(this.queue, this.handlers, job, token);
  }
}
