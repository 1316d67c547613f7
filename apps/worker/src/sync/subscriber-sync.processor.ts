import { JOB, QUEUE } from '@subscribernest/shared';
import { JobHandlers } from '../ops/job-handlers';
import { QueueProcessor, QueueWorker } from '../ops/queue-processor';
import { SubscriberSyncService } from './subscriber-sync.service';

/** The `subscriber-sync` queue (ARCHITECTURE §3): one `sync-publication` job per sync run. */
@QueueWorker(QUEUE.subscriberSync)
export class SubscriberSyncProcessor extends QueueProcessor<typeof QUEUE.subscriberSync> {
  readonly queue = QUEUE.subscriberSync;
  readonly concurrencySetting = 'SYNC_CONCURRENCY';
  protected readonly handlers: JobHandlers<typeof QUEUE.subscriberSync> = {
    [JOB.syncPublication]: (data, job, token) => this.sync.run(data, job, token),
  };

  constructor(private readonly sync: SubscriberSyncService) {
    super();
  }
}
