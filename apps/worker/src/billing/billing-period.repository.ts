import { Injectable } from '@nestjs/common';
import { BillingMonth, BillingPeriod, BillingPeriodStatus, rowsOf } from '@subscribernest/shared';
import { DataSource } from 'typeorm';
import { METER_EVENT_MAX_AGE_DAYS } from './stripe-meter-reporter';

const FIRST_ID = '00000000-0000-0000-0000-000000000000';

/** The statuses a month is still open to closing in (nothing has been reported for it yet). */
export const OPEN_PERIOD_STATUSES: readonly BillingPeriodStatus[] = [
  'pending',
  'not_invoiced',
  'skipped',
];

/** What the monthly billing writes: the users it closes and each user's `billing_periods` row. */
@Injectable()
export class BillingPeriodRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * The next `limit` users after `afterId` (id order) with a subscriber snapshot in `month`:
   * everyone who had something to bill. A user without one owes nothing and gets no row.
   */
  async billableUsersAfter(
    afterId: string | null,
    limit: number,
    month: BillingMonth,
  ): Promise<string[]> {
    const rows = await this.dataSource.query<{ user_id: string }[]>(
      `SELECT DISTINCT user_id FROM subscriber_count_snapshots
        WHERE day >= $1::date AND day < $2::date AND user_id > $3
        ORDER BY user_id
        LIMIT $4`,
      [month.startDay, month.endDay, afterId ?? FIRST_ID, limit],
    );
    return rows.map((row) => row.user_id);
  }

  /**
   * Writes the month's figures into the user's row for it (one per user and month: the unique
   * index), unless that month was already reported or its meter event already sent
   * (`meter_event_at`): a figure sent to Stripe is what Stripe bills and never changes after.
   * Returns the row as it now is; null when the user no longer exists.
   */
  async upsertOpenPeriod(
    userId: string,
    month: BillingMonth,
    maxSubscriberCount: number,
    amountCents: number,
  ): Promise<BillingPeriod | null> {
    await this.dataSource.query(
      `INSERT INTO billing_periods
         (user_id, period_start, period_end, max_subscriber_count, amount_cents, status)
       SELECT $1, $2::date, $3::date, $4, $5, 'pending'
        WHERE EXISTS (SELECT 1 FROM users WHERE id = $1)
       ON CONFLICT (user_id, period_start) DO UPDATE
         SET max_subscriber_count = EXCLUDED.max_subscriber_count,
             amount_cents = EXCLUDED.amount_cents,
             updated_at = now()
       WHERE billing_periods.status = ANY($6::varchar[])
         AND billing_periods.meter_event_at IS NULL`,
      [userId, month.startDay, month.endDay, maxSubscriberCount, amountCents, OPEN_PERIOD_STATUSES],
    );
    return this.dataSource
      .getRepository(BillingPeriod)
      .findOneBy({ userId, periodStart: month.startDay });
  }

  /** The Stripe customer of the user, when they ever started a checkout. */
  async stripeCustomerOf(userId: string): Promise<string | null> {
    const [row] = await this.dataSource.query<{ stripe_customer_id: string | null }[]>(
      `SELECT stripe_customer_id FROM billing_accounts WHERE user_id = $1`,
      [userId],
    );
    return row?.stripe_customer_id ?? null;
  }

  /** Closes an open period without Stripe; false when it is no longer open. */
  async close(periodId: string, status: 'not_invoiced' | 'skipped'): Promise<boolean> {
    const rows = rowsOf<{ id: string }>(
      await this.dataSource.query(
        `UPDATE billing_periods SET status = $2, updated_at = now()
          WHERE id = $1 AND status = ANY($3::varchar[])
          RETURNING id`,
        [periodId, status, OPEN_PERIOD_STATUSES],
      ),
    );
    return rows.length === 1;
  }

  /**
   * Fixes the open period's meter event before it is sent: dated `proposed` the first time, the
   * date stored since on every retry, so that the request under the month's idempotency key never
   * changes (a date older than Stripe's window is re-dated: by then Stripe has forgotten the key).
   * Returns the date and amount to send; null when the period is no longer open.
   */
  async fixMeterEvent(
    periodId: string,
    proposed: Date,
  ): Promise<{ meterEventAt: Date; amountCents: number } | null> {
    const [row] = rowsOf<{ meter_event_at: Date; amount_cents: number }>(
      await this.dataSource.query(
        `UPDATE billing_periods
            SET meter_event_at = CASE
                  WHEN meter_event_at IS NULL OR meter_event_at < now() - $3::interval THEN $2
                  ELSE meter_event_at END,
                updated_at = now()
          WHERE id = $1 AND status = ANY($4::varchar[])
          RETURNING meter_event_at, amount_cents`,
        [periodId, proposed, `${METER_EVENT_MAX_AGE_DAYS} days`, OPEN_PERIOD_STATUSES],
      ),
    );
    return row ? { meterEventAt: row.meter_event_at, amountCents: row.amount_cents } : null;
  }

  /** Records what Stripe's meter accepted; false when the period is no longer open. */
  async markReported(periodId: string, identifier: string, value: number): Promise<boolean> {
    const rows = rowsOf<{ id: string }>(
      await this.dataSource.query(
        `UPDATE billing_periods
            SET status = 'reported', meter_event_identifier = $2, reported_value = $3,
                reported_at = now(), updated_at = now()
          WHERE id = $1 AND status = ANY($4::varchar[])
          RETURNING id`,
        [periodId, identifier, value, OPEN_PERIOD_STATUSES],
      ),
    );
    return rows.length === 1;
  }
}
