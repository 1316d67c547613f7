import { Injectable } from '@nestjs/common';
import type Stripe from 'stripe';
import { EntityManager } from 'typeorm';
import { BillingAccountRepository } from './billing-account.repository';
import { isEndedSubscription, subscriptionSnapshotOf } from './subscription-snapshot';
import { WebhookOutcome } from './webhook-outcome';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The one way a Stripe subscription reaches `billing_accounts`, used by the subscription webhooks
 * and by the checkout verification (which read it live), so the two can never disagree on what
 * is stored.
 */
@Injectable()
export class StripeSubscriptionService {
  constructor(private readonly accounts: BillingAccountRepository) {}

  /**
   * Applies `subscription` as it was at `eventAt`, in `manager`'s transaction. The account is
   * found by its Stripe customer, or created for the user our checkout put in the subscription's
   * metadata. An older state than the one stored changes nothing (`stale`); so does a subscription
   * other than the account's own when it is over (`other_subscription`): a past subscription's
   * late events must not overwrite the current one, while a new live one replaces an old one.
   */
  async apply(
    manager: EntityManager,
    subscription: Stripe.Subscription,
    eventAt: Date,
    options: { deleted?: boolean } = {},
  ): Promise<WebhookOutcome> {
    const snapshot = subscriptionSnapshotOf(subscription);
    // A deleted subscription is over whatever else the payload says.
    if (options.deleted) snapshot.status = 'canceled';
    if (!snapshot.customerId) return 'unknown_customer';

    const userId = snapshot.metadataUserId;
    const account =
      (await this.accounts.lockByCustomer(manager, snapshot.customerId)) ??
      (userId && UUID.test(userId)
        ? await this.accounts.claimForCustomer(manager, userId, snapshot.customerId)
        : null);
    if (!account) return 'unknown_customer';

    const stored = account.stripeSubscriptionId;
    if (stored && stored !== snapshot.subscriptionId && isEndedSubscription(snapshot.status)) {
      return 'other_subscription';
    }
    const written = await this.accounts.writeSubscription(manager, account.id, snapshot, eventAt);
    return written ? 'applied' : 'stale';
  }

  /**
   * Applies a subscription just read from Stripe's API: the state is true as of now, so any
   * webhook event created before this moment is older and will change nothing.
   */
  applyLive(subscription: Stripe.Subscription): Promise<WebhookOutcome> {
    return this.accounts.transaction((manager) => this.apply(manager, subscription, new Date()));
  }
}
