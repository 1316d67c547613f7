import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { BillingAccount } from '@subscribernest/shared';
import { DataSource, EntityManager } from 'typeorm';
import { SubscriptionSnapshot } from './subscription-snapshot';

/**
 * Queries on `billing_accounts`: one row per user, holding their Stripe customer and the last
 * subscription state applied. The webhook and the checkout verification write the subscription
 * inside a transaction they own (the `manager` argument), holding the row's lock, so two
 * deliveries for one customer apply one after the other.
 */
@Injectable()
export class BillingAccountRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  findByUserId(userId: string): Promise<BillingAccount | null> {
    return this.dataSource.getRepository(BillingAccount).findOneBy({ userId });
  }

  /** Runs `work` in one transaction (what the writes below take as `manager`). */
  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /**
   * Stores `customerId` as the user's Stripe customer unless they already have one, and returns
   * the one stored. One statement, so two checkouts racing for a new user cannot make two rows or
   * overwrite each other (they also got the same customer: its creation is idempotent per user).
   */
  async saveCustomer(userId: string, customerId: string): Promise<string> {
    const [row] = await this.dataSource.query<{ stripe_customer_id: string }[]>(
      `INSERT INTO billing_accounts (user_id, stripe_customer_id) VALUES ($1, $2)
       ON CONFLICT (user_id) DO UPDATE
         SET stripe_customer_id = COALESCE(billing_accounts.stripe_customer_id,
                                           EXCLUDED.stripe_customer_id),
             updated_at = now()
       RETURNING stripe_customer_id`,
      [userId, customerId],
    );
    return row.stripe_customer_id;
  }

  /** The account of a Stripe customer, locked until `manager`'s transaction ends. */
  lockByCustomer(manager: EntityManager, customerId: string): Promise<BillingAccount | null> {
    return manager.getRepository(BillingAccount).findOne({
      where: { stripeCustomerId: customerId },
      lock: { mode: 'pessimistic_write' },
    });
  }

  /**
   * Ties a Stripe customer we have no row for to `userId` (from the subscription's metadata, set
   * by our checkout): creates the user's row, or fills its empty customer. Returns the locked row,
   * or null when the user does not exist or already has another customer (that one stays theirs).
   */
  async claimForCustomer(
    manager: EntityManager,
    userId: string,
    customerId: string,
  ): Promise<BillingAccount | null> {
    // ON CONFLICT without a target: a row of the user's, or (a race) one holding the customer.
    await manager.query(
      `INSERT INTO billing_accounts (user_id, stripe_customer_id)
       SELECT id, $2 FROM users WHERE id = $1
       ON CONFLICT DO NOTHING`,
      [userId, customerId],
    );
    await manager.query(
      `UPDATE billing_accounts SET stripe_customer_id = $2, updated_at = now()
        WHERE user_id = $1 AND stripe_customer_id IS NULL`,
      [userId, customerId],
    );
    return this.lockByCustomer(manager, customerId);
  }

  /**
   * Writes the subscription state unless the row already holds a newer one (`eventAt` older than
   * its subscription_event_at): then nothing changes and the answer is false. Equal times apply,
   * since Stripe's `created` has whole seconds and events of one second arrive in order.
   */
  async writeSubscription(
    manager: EntityManager,
    accountId: string,
    snapshot: SubscriptionSnapshot,
    eventAt: Date,
  ): Promise<boolean> {
    // TypeORM answers an UPDATE with [rows, affected row count].
    const [, updated] = await manager.query<[unknown[], number]>(
      `UPDATE billing_accounts
          SET stripe_subscription_id = $2, subscription_status = $3, current_period_end = $4,
              cancel_at_period_end = $5, subscription_event_at = $6, updated_at = now()
        WHERE id = $1 AND (subscription_event_at IS NULL OR subscription_event_at <= $6)`,
      [
        accountId,
        snapshot.subscriptionId,
        snapshot.status,
        snapshot.currentPeriodEnd,
        snapshot.cancelAtPeriodEnd,
        eventAt,
      ],
    );
    return updated > 0;
  }
}
