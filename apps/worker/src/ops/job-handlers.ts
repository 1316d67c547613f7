import {
  describeJobError,
  InternalJobError,
  isInternalError,
  JobNameOf,
  JobPayloads,
  QueueName,
  redactJobText,
} from '@subscribernest/shared';
import {
  DelayedError,
  Job,
  RateLimitError,
  UnrecoverableError,
  WaitingChildrenError,
  WaitingError,
} from 'bullmq';

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
/** How an owner's message and the operators' log line name one job: `<queue>/<job id>`. */
export function jobReference(queue: string, job: Job): string {
  return `${queue}/${job.id ?? 'unknown'}`;
}

/** BullMQ's own signals (a delay, a wait, no more attempts): never replaced. */
function isBullMqControlError(error: unknown): boolean {
  return (
    error instanceof UnrecoverableError ||
    error instanceof DelayedError ||
    error instanceof WaitingError ||
    error instanceof WaitingChildrenError ||
    error instanceof RateLimitError
  );
}

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
    // A database, driver or programming error's text is for operators only: BullMQ would keep it
    // as the job's failedReason (Redis, the queue board, GET /jobs/:id). It is replaced by a
    // reference; the audit listener logs the detail under it. A plain Error is retried as before.
    if (isInternalError(error) && !isBullMqControlError(error)) {
      throw new InternalJobError(jobReference(queue, job), describeJobError(error));
    }
    // Otherwise the message stays, masked where it may name someone (an SMTP 550 names the
    // recipient). The class stays, so DelayedError, UnrecoverableError and the like still steer
    // BullMQ.
    if (error instanceof Error) error.message = redactJobText(error.message);
    throw error;
  }
}
