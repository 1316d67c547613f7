import { JOB, QUEUE } from '@subscribernest/shared';
import { JobHandlers } from '../ops/job-handlers';
import { QueueProcessor, QueueWorker } from '../ops/queue-processor';
import { ClosePeriodService } from './close-period.service';

/** The `billing` queue: one `close-period` job per billable user and month. */
@QueueWorker(QUEUE.billing)
export class BillingProcessor extends QueueProcessor<typeof QUEUE.billing> {
  readonly queue = QUEUE.billing;
  readonly concurrencySetting = 'CLOSE_PERIOD_CONCURRENCY';
  protected readonly handlers: JobHandlers<typeof QUEUE.billing> = {
    [JOB.closePeriod]: (data, job) => this.periods.closePeriod(data, job),
  };

  constructor(private readonly periods: ClosePeriodService) {
    super();
  }
}
