import { ApiProperty } from '@nestjs/swagger';
import { BillingAccount, hasEntitledSubscription } from '@subscribernest/shared';
import { BillingSubscriptionDto } from './billing-subscription.dto';

/** Whether the caller may use the paid features, as the frontend's billing pages read it. */
export class BillingStatusDto {
  @ApiProperty({
    description:
      'Whether the caller may connect ESPs and sync: an active or trialing subscription, or a ' +
      'canceled / past-due one before currentPeriodEnd. Always true while billing is disabled ' +
      'on this server (every user counts as subscribed).',
  })
  hasActiveSubscription: boolean;

  @ApiProperty({
    type: BillingSubscriptionDto,
    nullable: true,
    description: 'The Stripe subscription; null without one, and while billing is disabled',
  })
  subscription: BillingSubscriptionDto | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'End of the paid period; null without a subscription or while billing is disabled',
  })
  currentPeriodEnd: string | null;

  @ApiProperty({ description: 'Whether this server bills through Stripe (false: not configured)' })
  billingEnabled: boolean;

  /** Billing disabled: everyone counts as subscribed, with nothing to show. */
  static disabled(): BillingStatusDto {
    return {
      hasActiveSubscription: true,
      subscription: null,
      currentPeriodEnd: null,
      billingEnabled: false,
    };
  }

  /** Billing enabled: what the user's billing_accounts row (if any) says. */
  static from(account: BillingAccount | null, now = new Date()): BillingStatusDto {
    return {
      hasActiveSubscription: hasEntitledSubscription(account, now),
      subscription:
        account?.stripeSubscriptionId && account.subscriptionStatus
          ? {
              id: account.stripeSubscriptionId,
              status: account.subscriptionStatus,
              cancelAtPeriodEnd: account.cancelAtPeriodEnd,
            }
          : null,
      currentPeriodEnd: account?.currentPeriodEnd?.toISOString() ?? null,
      billingEnabled: true,
    };
  }
}
