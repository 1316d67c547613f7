import { Module } from '@nestjs/common';
import { OpsModule } from '../ops/ops.module';
import { CronTicksModule } from '../schedulers/cron-ticks.module';
import { AccountDeletionProcessor } from './account-deletion.processor';
import { AccountDeletionRepository } from './account-deletion.repository';
import { AccountDeletionScheduler } from './account-deletion.scheduler';
import { AccountDeletionService } from './account-deletion.service';

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
  imports: [OpsModule, AccountDeletionCronModule],
  providers: [AccountDeletionService, AccountDeletionProcessor],
})
export class AccountDeletionModule {}
