import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { JobRun } from '@subscribernest/shared';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { JobRunRepository } from '../jobs/job-run.repository';
import { AdminQueuesService } from './admin-queues.service';

/** 'retried', 'gone', or the job's state in Redis when it is not failed. */
type RetryOutcome = string;

/**
 * The dead-letter list (`job_runs` with status `dead`) and manual retries. Payloads live only in
 * Redis, so a job can be retried only while BullMQ still keeps it (failed-job retention).
 */
@Injectable()
export class DeadLetterService {
  constructor(
    private readonly runs: JobRunRepository,
    private readonly queues: AdminQueuesService,
    @InjectPinoLogger(DeadLetterService.name) private readonly logger: PinoLogger,
  ) {}

  list(page: number, limit: number): Promise<{ rows: JobRun[]; total: number }> {
    return this.runs.findDeadPage(page, limit);
  }

  /** Re-enqueues a dead job with a fresh set of attempts; its row becomes `queued`. */
  async retry(id: string, adminId: string): Promise<JobRun> {
    const run = await this.runs.findById(id);
    if (!run) throw new NotFoundException('Job not found');
    if (run.status !== 'dead') {
      throw new ConflictException(`Only dead jobs can be retried; this one is ${run.status}`);
    }
    const queue = this.queues.get(run.queue);
    if (!queue) {
      throw new ConflictException(`The api does not know the queue "${run.queue}"`);
    }
    // Claim first: of two admins retrying at once, one re-enqueues, the other gets a 409.
    if (!(await this.runs.claimDeadForRetry(id))) {
      throw new ConflictException('This job is no longer dead: it was retried meanwhile');
    }

    let outcome: RetryOutcome;
    try {
      outcome = await this.queues.call(queue, 'retrying a dead job', async () => {
        const job = await queue.getJob(run.jobId);
        if (!job) return 'gone';
        const state = await job.getState();
        if (state !== 'failed') return state;
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        return 'retried';
      });
    } catch (error) {
      await this.runs.releaseRetryClaim(run);
      throw error;
    }
    if (outcome !== 'retried') {
      await this.runs.releaseRetryClaim(run);
      throw new ConflictException(
        outcome === 'gone'
          ? 'This job is no longer in Redis (its failed-job retention has passed) and payloads ' +
              'are not kept in Postgres, so it cannot be retried; trigger the work again instead'
          : `This job is "${outcome}" in Redis, not failed, so it cannot be retried`,
      );
    }
    this.logger.info(
      { jobRunId: id, queue: run.queue, jobName: run.name, jobId: run.jobId, adminId },
      'Dead job retried',
    );
    const updated = await this.runs.findById(id);
    if (!updated) throw new NotFoundException('Job not found');
    return updated;
  }
}
