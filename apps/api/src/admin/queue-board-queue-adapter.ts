import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { redactJobText, strippedJobPayload } from '@subscribernest/shared';
import { Job, Queue } from 'bullmq';

/** A job as the board may show it: no stack (paths), a redacted reason, id fields only. */
function forTheBoard(job: Job | undefined): Job | undefined {
  if (!job) return job;
  job.stacktrace = [];
  if (job.failedReason) job.failedReason = redactJobText(job.failedReason);
  return job;
}

/**
 * Bull Board's BullMQ adapter, read-only, showing jobs as they may be shown to an operator. The
 * worker already keeps stacks out of Redis and redacts failure messages, and payloads are ids
 * only; this second layer holds for jobs written by an older release or by anything else that
 * can reach Redis.
 */
export class QueueBoardQueueAdapter extends BullMQAdapter {
  constructor(queue: Queue, options: ConstructorParameters<typeof BullMQAdapter>[1] = {}) {
    super(queue, { ...options, readOnlyMode: true });
    this.setFormatter('data', (data: unknown) => strippedJobPayload(data) ?? data);
  }

  override async getJob(id: string): Promise<Job | undefined> {
    return forTheBoard(await super.getJob(id));
  }

  override async getJobs(...args: Parameters<BullMQAdapter['getJobs']>): Promise<Job[]> {
    return (await super.getJobs(...args)).map((job) => forTheBoard(job) as Job);
  }
}
