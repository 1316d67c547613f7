import { Module } from '@nestjs/common';
import { BillingAccountRepository } from './billing-account.repository';
import { BillingSettings } from './billing-settings';
import { SubscriptionRequiredGuard } from './subscription-required.guard';

/**
 * What `@SubscriptionRequired()` needs, for the feature modules whose routes it gates
 * (esp-connections, sync) to import without pulling in the Stripe routes.
 */
@Module({
  providers: [BillingSettings, BillingAccountRepository, SubscriptionRequiredGuard],
  exports: [BillingSettings, BillingAccountRepository, SubscriptionRequiredGuard],
})
export class BillingEntitlementModule {}
