import { JobNameOf, JobPayloads, QueueName, redactJobText } from '@subscribernest/shared';
import { Job, UnrecoverableError } from 'bullmq';

/** A job of one name, with its payload typed from the shared contract. */
export type JobOf<N extends keyof JobPayloads> = Job<JobPayloads[N], unknown, N>;

/** What one job name runs: `token` is the worker's lock token (needed to move a job by hand). */
export type JobHandler<N extends keyof JobPayloads> = (
  data: JobPayloads[N],
  job: JobOf<N>,
  token?: string,
) => Promise<unknown>;

/**
 * One handler per job name the shared contract (`QUEUE_JOBS`) gives a queue. A processor declares
 * its map with this type, so a job name added to the contract fails to compile until it has a
 * handler, and a name the queue does not carry is an excess property.
 */
export type JobHandlers<Q extends QueueName> = {
  [N in JobNameOf<Q> & keyof JobPayloads]: JobHandler<N>;
};

type UntypedHandler = (data: unknown, job: Job, token?: string) => Promise<unknown>;

/**
 * Runs the handler for `job.name`. A name with no handler can never succeed, however often it is
 * retried, so it fails at once with an UnrecoverableError (and lands as `dead` in `job_runs`).
 */
export async function dispatch<Q extends QueueName>(
  queue: Q,
  handlers: JobHandlers<Q>,
  job: Job,
  token?: string,
): Promise<unknown> {
  const byName = handlers as unknown as Record<string, UntypedHandler | undefined>;
  const handler = Object.prototype.hasOwnProperty.call(byName, job.name)
    ? byName[job.name]
    : undefined;
  if (!handler) {
    throw new UnrecoverableError(`No handler for job "${job.name}" on queue "${queue}"`);
  }
  try {
    return await handler(job.data, job, token);
  } catch (error) {
    // BullMQ keeps the message as the job's failedReason, in Redis and on the queue board: mask
    // what it may name (an SMTP 550 names the recipient). The class stays, so DelayedError,
    // UnrecoverableError and the like still steer BullMQ.
    if (error instanceof Error) error.message = redactJobText(error.message);
    throw error;
  }
}
