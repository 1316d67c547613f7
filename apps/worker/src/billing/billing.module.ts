import { Module } from '@nestjs/common';
import { BillingUsageRepository, StripeClientModule } from '@subscribernest/shared';
import { OpsModule } from '../ops/ops.module';
import { CronTicksModule } from '../schedulers/cron-ticks.module';
import { BillingPeriodRepository } from './billing-period.repository';
import { BillingProcessor } from './billing.processor';
import { ClosePeriodService } from './close-period.service';
import { MonthlyBillingScheduler } from './monthly-billing.scheduler';
import { StripeMeterReporter } from './stripe-meter-reporter';

/**
 * The monthly-billing cron (imported by SchedulersModule, next to the other crons, so the
 * manual-tick check finds its handler wherever the crons run).
 */
@Module({
  imports: [CronTicksModule],
  providers: [BillingPeriodRepository, MonthlyBillingScheduler],
  exports: [BillingPeriodRepository],
})
export class MonthlyBillingCronModule {}

/** The `close-period` processor the cron feeds. */
@Module({
  imports: [OpsModule, StripeClientModule, MonthlyBillingCronModule],
  providers: [BillingUsageRepository, StripeMeterReporter, ClosePeriodService, BillingProcessor],
})
export class BillingModule {}
