import { JOB, QUEUE } from '@subscribernest/shared';
import { Job, Worker } from 'bullmq';
import { JobHandlers } from '../ops/job-handlers';
import { QueueProcessor, QueueWorker } from '../ops/queue-processor';
import { SubscriberSyncService } from './subscriber-sync.service';
import { SyncJobEndings } from './sync-job-endings';

/** The `subscriber-sync` queue (ARCHITECTURE §3): one `sync-publication` job per sync run. */
@QueueWorker(QUEUE.subscriberSync)
export class SubscriberSyncProcessor extends QueueProcessor<typeof QUEUE.subscriberSync> {
  readonly queue = QUEUE.subscriberSync;
  readonly concurrencySetting = 'SYNC_CONCURRENCY';
  protected readonly handlers: JobHandlers<typeof QUEUE.subscriberSync> = {
    [JOB.syncPublication]: (data, job, token) => this.sync.run(data, job, token),
  };

  constructor(
    private readonly sync: SubscriberSyncService,
    private readonly endings: SyncJobEndings,
  ) {
    super();
  }

  /** A job that dies outside the processor (stalled limit) still ends its run. */
  protected override onWorker(worker: Worker): void {
    worker.on('failed', (job: Job | undefined, error: Error) => {
      if (job) void this.endings.onFailed(job, error);
    });
  }
}
