import { Job } from 'bullmq';

/**
 * Renews one execution's job lock by its own token while it runs, through BullMQ's public
 * `Job.extendLock`, every half of the lock duration.
 *
 * Why, on top of BullMQ's lock manager: the manager tracks the locks it renews by job id. When
 * BullMQ runs one job twice in one process (the first execution lost its lock in a Redis outage
 * longer than the lock, or behind a blocked event loop, and the stalled check handed the job to
 * another slot here), the older execution's end untracks that id — and with it the newer
 * execution's lock, which then stalls one lock period later, again and again, until the stalled
 * limit fails a sync that was running fine. Renewing by token cannot touch another execution's
 * lock: an execution whose lock another one owns gets 0 from `extendLock`, changes nothing, and
 * stops at its next fenced write.
 */
export async function withOwnLock<T>(
  job: Job,
  token: string | undefined,
  lockDurationMs: number,
  run: () => Promise<T>,
): Promise<T> {
  if (!token) return run();
  const timer = setInterval(
    () => void job.extendLock(token, lockDurationMs).catch(() => undefined),
    Math.max(Math.floor(lockDurationMs / 2), 100),
  );
  timer.unref();
  try {
    return await run();
  } finally {
    clearInterval(timer);
  }
}
