import { Module } from '@nestjs/common';
import { BillingUsageRepository, StripeClientModule } from '@subscribernest/shared';
import { BillingCheckoutService } from './billing-checkout.service';
import { BillingController } from './billing.controller';
import { BillingEntitlementModule } from './billing-entitlement.module';
import { BillingPeriodRepository } from './billing-period.repository';
import { BillingService } from './billing.service';
import { StripeInvoiceService } from './stripe-invoice.service';
import { StripeSubscriptionService } from './stripe-subscription.service';
import { StripeWebhookController } from './stripe-webhook.controller';
import { StripeWebhookEventRepository } from './stripe-webhook-event.repository';
import { StripeWebhookService } from './stripe-webhook.service';

/**
 * Billing: status, usage and history for the frontend; Stripe Checkout, the customer portal and
 * the checkout verification; Stripe's webhook. Without STRIPE_SECRET_KEY the Stripe routes answer
 * 409 and every user counts as subscribed.
 */
@Module({
  imports: [BillingEntitlementModule, StripeClientModule],
  controllers: [BillingController, StripeWebhookController],
  providers: [
    BillingService,
    BillingCheckoutService,
    StripeWebhookService,
    StripeSubscriptionService,
    StripeInvoiceService,
    BillingUsageRepository,
    BillingPeriodRepository,
    StripeWebhookEventRepository,
  ],
})
export class BillingModule {}
