import { Module } from '@nestjs/common';
import { BillingUsageRepository } from '@subscribernest/shared';
import { BillingController } from './billing.controller';
import { BillingPeriodRepository } from './billing-period.repository';
import { BillingService } from './billing.service';

/** `GET /billing/status`, `/billing/usage` and `/billing/history` (no Stripe yet). */
@Module({
  controllers: [BillingController],
  providers: [BillingService, BillingUsageRepository, BillingPeriodRepository],
})
export class BillingModule {}
