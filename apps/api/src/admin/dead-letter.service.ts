import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import {
  JOB,
  JobProducer,
  JobRun,
  QUEUE,
  QueueName,
  SyncRunLifecycle,
  SyncTrigger,
} from '@subscribernest/shared';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { JobRunRepository } from '../jobs/job-run.repository';

/** 'retried', 'gone', or the job's state in Redis when it is not failed. */
type RetryOutcome = string;

/**
 * The dead-letter list (`job_runs` with status `dead`) and manual retries. Payloads live only in
 * Redis, so a job can be retried only while BullMQ still keeps it (failed-job retention) — except
 * a sync job, whose payload is its run's ids: its run is reset through SyncRunLifecycle (queued
 * again, resuming from its checkpoint) and its job re-added when Redis has trimmed it.
 */
@Injectable()
export class DeadLetterService {
  constructor(
    private readonly runs: JobRunRepository,
    private readonly producer: JobProducer,
    private readonly lifecycle: SyncRunLifecycle,
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
    if (!this.producer.find(run.queue)) {
      throw new ConflictException(`The api does not know the queue "${run.queue}"`);
    }
    // Claim first: of two admins retrying at once, one re-enqueues, the other gets a 409.
    if (!(await this.runs.claimDeadForRetry(id))) {
      throw new ConflictException('This job is no longer dead: it was retried meanwhile');
    }

    const sync = run.queue === QUEUE.subscriberSync ? await this.resetSyncRun(run) : null;

    let outcome: RetryOutcome;
    try {
      outcome = await this.producer.call(
        run.queue as QueueName,
        'retrying a dead job',
        async (queue) => {
          const job = await queue.getJob(run.jobId);
          if (!job) {
            if (!sync) return 'gone';
            await queue.add(JOB.syncPublication, sync, { jobId: run.jobId });
            return 'retried';
          }
          const state = await job.getState();
          if (state !== 'failed') return state;
          await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
          return 'retried';
        },
      );
    } catch (error) {
      await this.undoSyncReset(sync, 'the job queue (Redis) was unavailable');
      await this.runs.releaseRetryClaim(run);
      throw error;
    }
    if (outcome !== 'retried') {
      await this.undoSyncReset(sync, `its job is ${outcome}`);
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

  /**
   * The run of a dead sync job, made `queued` again with its connection `syncing`; the payload to
   * re-add its job with. 409 (and the claim released) when the run cannot run again.
   */
  private async resetSyncRun(
    run: JobRun,
  ): Promise<{ espConnectionId: string; syncRunId: string; trigger: SyncTrigger }> {
    const reset = await this.lifecycle.resetForRetry(run.jobId);
    if (reset.kind === 'reset') {
      return {
        espConnectionId: reset.connectionId,
        syncRunId: reset.runId,
        trigger: reset.trigger,
      };
    }
    await this.runs.releaseRetryClaim(run);
    switch (reset.kind) {
      case 'not-found':
        throw new ConflictException('This sync run no longer exists (its connection was deleted)');
      case 'connection-unavailable':
        throw new ConflictException(
          reset.status === 'invalid'
            ? "This sync cannot run again: the ESP rejected its connection's API key; a new key must be saved first"
            : 'This sync cannot run again: its connection is gone or being deleted',
        );
      case 'busy':
        throw new ConflictException(
          'Another sync of this connection is queued or running; retry this one after it ends',
        );
      case 'not-failed':
        throw new ConflictException(`This sync run is ${reset.status}, not failed`);
    }
  }

  /** The job could not be re-enqueued after its run was reset: the run fails again, saying why. */
  private async undoSyncReset(sync: { syncRunId: string } | null, why: string): Promise<void> {
    if (!sync) return;
    await this.lifecycle.reconcile(sync.syncRunId, {
      reason: `An admin's retry of this sync could not be queued: ${why}`,
    });
  }
}
