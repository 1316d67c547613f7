import { Module } from '@nestjs/common';
import { SyncLifecycleModule } from '@subscribernest/shared';
import { AccountDeletionCronModule } from '../account-deletion/account-deletion.module';
import { MonthlyBillingCronModule } from '../billing/billing.module';
import { RetentionModule } from '../retention/retention.module';
import { CronTickRecoveryScheduler } from './cron-tick-recovery.scheduler';
import { CronTicksModule } from './cron-ticks.module';
import { ManualCronTicksService } from './manual-cron-ticks.service';
import { SyncSchedulerService } from './midnight-sync.scheduler';
import { SchedulerTicksProcessor } from './scheduler-ticks.processor';

/**
 * Crons: the tick claim/catch-up piece every scheduler uses (CronTicksService), the schedulers
 * (midnight sync, data retention in `retention/`, account deletion in `account-deletion/`,
 * monthly billing in `billing/`; ClaimedCron is their common frame), the recovery check that re-runs ticks whose worker died or that failed, and the processor of the
 * ticks an admin runs by hand.
 */
@Module({
  imports: [
    CronTicksModule,
    SyncLifecycleModule,
    RetentionModule,
    AccountDeletionCronModule,
    MonthlyBillingCronModule,
  ],
  providers: [
    SyncSchedulerService,
    ManualCronTicksService,
    SchedulerTicksProcessor,
    CronTickRecoveryScheduler,
  ],
  exports: [CronTicksModule],
})
export class SchedulersModule {}
