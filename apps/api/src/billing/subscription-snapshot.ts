import type Stripe from 'stripe';
import { stripeObjectId } from './stripe-object-id';

/** What billing_accounts keeps of a Stripe subscription. */
export interface SubscriptionSnapshot {
  subscriptionId: string;
  customerId: string | null;
  status: Stripe.Subscription.Status;
  currentPeriodEnd: Date | null;
  cancelAtPeriodEnd: boolean;
  /** `metadata.userId`, set by our checkout (subscription_data.metadata): who subscribed. */
  metadataUserId: string | null;
}

/** Subscriptions of API versions before 2025-03-31 carried the period at the top level. */
type SubscriptionWithLegacyPeriod = Stripe.Subscription & { current_period_end?: number | null };

/**
 * The state to store for `subscription`. Since Stripe's 2025-03-31 API version the period lives
 * on each subscription item, not on the subscription; we sell one price, so the first item's
 * `current_period_end` is the subscription's. An older payload's top-level field is the fallback.
 */
export function subscriptionSnapshotOf(subscription: Stripe.Subscription): SubscriptionSnapshot {
  const itemPeriodEnd = subscription.items?.data?.[0]?.current_period_end;
  const legacyPeriodEnd = (subscription as SubscriptionWithLegacyPeriod).current_period_end;
  const periodEnd = itemPeriodEnd ?? legacyPeriodEnd ?? null;
  const metadataUserId = subscription.metadata?.userId;
  return {
    subscriptionId: subscription.id,
    customerId: stripeObjectId(subscription.customer),
    status: subscription.status,
    currentPeriodEnd: typeof periodEnd === 'number' ? new Date(periodEnd * 1000) : null,
    cancelAtPeriodEnd: subscription.cancel_at_period_end === true,
    metadataUserId: typeof metadataUserId === 'string' && metadataUserId ? metadataUserId : null,
  };
}

/** Statuses of a subscription that is over for good: it never replaces another one. */
const ENDED_STATUSES: readonly string[] = ['canceled', 'incomplete_expired'];

export function isEndedSubscription(status: string): boolean {
  return ENDED_STATUSES.includes(status);
}
