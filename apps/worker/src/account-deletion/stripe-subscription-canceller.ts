import { Inject, Injectable } from '@nestjs/common';
import { STRIPE_CLIENT } from '@subscribernest/shared';
import Stripe from 'stripe';
import { DataSource } from 'typeorm';

/** What cancelling the account's subscription came to (the deletion's result and log carry it). */
export type SubscriptionCancellation =
  | 'none' // billing disabled, or the user never subscribed
  | 'already-canceled'
  | 'canceled';

/**
 * The first thing an account deletion does when billing is enabled: cancel the user's Stripe
 * subscription at once, so a deleted account is never charged again. Idempotent: a retried
 * deletion finds the subscription canceled at Stripe (or already gone there) and moves on; the
 * cancel call itself carries an idempotency key per subscription.
 */
@Injectable()
export class StripeSubscriptionCanceller {
  constructor(
    @Inject(STRIPE_CLIENT) private readonly stripe: Stripe | null,
    private readonly dataSource: DataSource,
  ) {}

  async cancelFor(userId: string): Promise<SubscriptionCancellation> {
    if (!this.stripe) return 'none';
    const [account] = await this.dataSource.query<{ stripe_subscription_id: string | null }[]>(
      `SELECT stripe_subscription_id FROM billing_accounts WHERE user_id = $1`,
      [userId],
    );
    const subscriptionId = account?.stripe_subscription_id;
    if (!subscriptionId) return 'none';

    let outcome: SubscriptionCancellation;
    try {
      const subscription = await this.stripe.subscriptions.retrieve(subscriptionId);
      if (subscription.status === 'canceled' || subscription.status === 'incomplete_expired') {
        outcome = 'already-canceled';
      } else {
        await this.stripe.subscriptions.cancel(
          subscriptionId,
          {},
          { idempotencyKey: `cancel-subscription:${subscriptionId}` },
        );
        outcome = 'canceled';
      }
    } catch (error) {
      if (!isAlreadyGone(error)) throw error;
      outcome = 'already-canceled';
    }
    await this.dataSource.query(
      `UPDATE billing_accounts SET subscription_status = 'canceled', updated_at = now()
        WHERE user_id = $1`,
      [userId],
    );
    return outcome;
  }
}

/** Stripe no longer knows the subscription, or it was canceled between our read and our call. */
function isAlreadyGone(error: unknown): boolean {
  return (
    error instanceof Stripe.errors.StripeInvalidRequestError &&
    (error.code === 'resource_missing' || error.code === 'subscription_already_canceled')
  );
}
