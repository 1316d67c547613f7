import { Module } from '@nestjs/common';
import { QUEUE, registerQueues, SyncLifecycleModule } from '@subscribernest/shared';
import { CronTicksModule } from './cron-ticks.module';
import { ManualCronTicksService } from './manual-cron-ticks.service';
import { SyncSchedulerService } from './midnight-sync.scheduler';
import { SchedulerTicksProcessor } from './scheduler-ticks.processor';

/**
 * Crons: the tick claim/catch-up piece every scheduler uses (CronTicksService), the schedulers
 * (midnight sync; monthly billing and account deletion join here), and the processor of the
 * ticks an admin runs by hand.
 */
@Module({
  imports: [
    CronTicksModule,
    SyncLifecycleModule,
    registerQueues(QUEUE.subscriberSync, QUEUE.schedulerTicks),
  ],
  providers: [SyncSchedulerService, ManualCronTicksService, SchedulerTicksProcessor],
  exports: [CronTicksModule],
})
export class SchedulersModule {}
