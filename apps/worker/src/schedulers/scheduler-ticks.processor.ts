import { JOB, QUEUE } from '@subscribernest/shared';
import { JobHandlers } from '../ops/job-handlers';
import { QueueProcessor, QueueWorker } from '../ops/queue-processor';
import { ManualCronTicksService } from './manual-cron-ticks.service';

/** The `scheduler-ticks` queue: cron ticks an admin asked for by hand, and re-runs of one tick. */
@QueueWorker(QUEUE.schedulerTicks)
export class SchedulerTicksProcessor extends QueueProcessor<typeof QUEUE.schedulerTicks> {
  readonly queue = QUEUE.schedulerTicks;
  readonly concurrencySetting = 'SCHEDULER_TICKS_CONCURRENCY';
  protected readonly handlers: JobHandlers<typeof QUEUE.schedulerTicks> = {
    [JOB.runCron]: (data) => this.manualTicks.run(data),
    [JOB.rerunCronTick]: (data) => this.manualTicks.rerun(data),
  };

  constructor(private readonly manualTicks: ManualCronTicksService) {
    super();
  }
}
