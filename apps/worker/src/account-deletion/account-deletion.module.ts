import { Module } from '@nestjs/common';
import { StripeClientModule } from '@subscribernest/shared';
import { OpsModule } from '../ops/ops.module';
import { CronTicksModule } from '../schedulers/cron-ticks.module';
import { AccountDeletionProcessor } from './account-deletion.processor';
import { AccountDeletionRepository } from './account-deletion.repository';
import { AccountDeletionScheduler } from './account-deletion.scheduler';
import { AccountDeletionService } from './account-deletion.service';
import { StripeSubscriptionCanceller } from './stripe-subscription-canceller';

/**
 * The daily account-deletion cron (imported by SchedulersModule, next to the other crons, so the
 * manual-tick check finds its handler wherever the crons run).
 */
@Module({
  imports: [CronTicksModule],
  providers: [AccountDeletionRepository, AccountDeletionScheduler],
  exports: [AccountDeletionRepository],
})
export class AccountDeletionCronModule {}

/** The `delete-account` processor the cron feeds. */
@Module({
  imports: [OpsModule, StripeClientModule, AccountDeletionCronModule],
  providers: [AccountDeletionService, StripeSubscriptionCanceller, AccountDeletionProcessor],
})
export class AccountDeletionModule {}
