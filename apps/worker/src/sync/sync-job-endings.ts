import { Injectable } from '@nestjs/common';
import { describeJobError, SyncRunLifecycle } from '@subscribernest/shared';
import { Job } from 'bullmq';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';

/** BullMQ's reason for a job failed by its stalled-job limit (a worker died with it, too often). */
const STALLED_LIMIT = 'job stalled more than allowable limit';

/** What the owner reads in sync-history when a sync job died outside its processor. */
export function ownerReasonForDeadJob(error: Error | string): string {
  const message = typeof error === 'string' ? error : error.message;
  if (message.includes(STALLED_LIMIT)) {
    return 'The sync stopped because the worker running it stopped (crashed or was restarted) too many times; sync again to retry';
  }
  return `The sync job ended without finishing: ${describeJobError(error)}`;
}

/**
 * Reconciles a sync run with the end of its job, for every way a `sync-publication` job can die:
 * the processor's own failures have already failed the run (this is then a no-op), but BullMQ also
 * fails jobs without running the processor (the stalled-job limit: workers killed twice during
 * one sync), and those runs would otherwise stay `running` with their connection `syncing`.
 */
@Injectable()
export class SyncJobEndings {
  constructor(
    private readonly lifecycle: SyncRunLifecycle,
    @InjectPinoLogger(SyncJobEndings.name) private readonly logger: PinoLogger,
  ) {}

  /** The worker's `failed` event: only a job BullMQ will not retry (dead) ends its run. */
  async onFailed(job: Job, error: Error): Promise<void> {
    const dead = typeof job.finishedOn === 'number';
    const syncRunId = (job.data as { syncRunId?: unknown } | undefined)?.syncRunId;
    if (!dead || typeof syncRunId !== 'string') return;
    try {
      const failed = await this.lifecycle.reconcile(syncRunId, {
        reason: ownerReasonForDeadJob(error),
      });
      if (failed) {
        this.logger.warn(
          { syncRunId, jobId: job.id, error: describeJobError(error) },
          'sync job died outside its processor: run failed and connection released',
        );
      }
    } catch (reconcileError) {
      // The reaper finds the run later: nothing is left stuck for good.
      this.logger.error(
        { syncRunId, jobId: job.id, error: describeJobError(reconcileError) },
        'could not reconcile the run of a dead sync job; the reaper will',
      );
    }
  }
}
