import { waitFor } from '@subscribernest/testkit';
import { Job, Queue } from 'bullmq';

/**
 * The job once it completed (its return value read); throws with its failure reason when it
 * failed instead. The state is read first and the job after: a job read before it finished has
 * no result or reason yet.
 */
export function completedJob<T, R>(
  queue: Queue<T>,
  jobId: string,
  timeoutMs = 30_000,
): Promise<Job<T, R>> {
  return waitFor(
    async () => {
      const state = await queue.getJobState(jobId);
      if (state !== 'completed' && state !== 'failed') return false;
      const job = (await queue.getJob(jobId)) as Job<T, R> | undefined;
      if (state === 'failed') throw new Error(`job ${jobId} failed: ${job?.failedReason}`);
      return job ?? false;
    },
    { description: `job ${jobId} to complete`, timeoutMs },
  );
}

/** The job once it failed for good (its reason read). */
export function failedJob<T>(queue: Queue<T>, jobId: string, timeoutMs = 20_000): Promise<Job<T>> {
  return waitFor(
    async () =>
      (await queue.getJobState(jobId)) === 'failed'
        ? ((await queue.getJob(jobId)) ?? false)
        : false,
    { description: `job ${jobId} to fail`, timeoutMs },
  );
}
