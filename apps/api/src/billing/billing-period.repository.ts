import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { BillingPeriod, BillingPeriodStatus } from '@subscribernest/shared';
import { DataSource, EntityManager, IsNull } from 'typeorm';

/** What an invoice webhook event writes on a period. */
export interface InvoiceOutcome {
  status: Extract<BillingPeriodStatus, 'paid' | 'failed'>;
  invoiceId: string;
  /** The event's `created` time. */
  eventAt: Date;
}

/** Queries on `billing_periods` for the billing routes and the invoice webhooks. */
@Injectable()
export class BillingPeriodRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The user's newest `limit` periods, newest month first. */
  findRecent(userId: string, limit: number): Promise<BillingPeriod[]> {
    return this.dataSource.getRepository(BillingPeriod).find({
      where: { userId },
      order: { periodStart: 'DESC', id: 'DESC' },
      take: limit,
    });
  }

  /**
   * The user's period an invoice belongs to, locked until `manager`'s transaction ends: the one
   * already holding the invoice, else (when `matchReported`) the newest month the worker reported
   * to Stripe's meter that has no invoice yet (Stripe invoices the usage it was told about).
   */
  async lockForInvoice(
    manager: EntityManager,
    userId: string,
    invoiceId: string,
    matchReported: boolean,
  ): Promise<BillingPeriod | null> {
    const periods = manager.getRepository(BillingPeriod);
    const lock = { mode: 'pessimistic_write' } as const;
    const known = await periods.findOne({ where: { userId, stripeInvoiceId: invoiceId }, lock });
    if (known || !matchReported) return known;
    return periods.findOne({
      where: { userId, status: 'reported', stripeInvoiceId: IsNull() },
      order: { periodStart: 'DESC' },
      lock,
    });
  }

  /**
   * Records the invoice's outcome on the period unless it holds a newer invoice event already
   * (then nothing changes and the answer is false).
   */
  async writeInvoice(
    manager: EntityManager,
    periodId: string,
    outcome: InvoiceOutcome,
  ): Promise<boolean> {
    // TypeORM answers an UPDATE with [rows, affected row count].
    const [, updated] = await manager.query<[unknown[], number]>(
      `UPDATE billing_periods
          SET status = $2, stripe_invoice_id = $3, invoice_event_at = $4, updated_at = now()
        WHERE id = $1 AND (invoice_event_at IS NULL OR invoice_event_at <= $4)`,
      [periodId, outcome.status, outcome.invoiceId, outcome.eventAt],
    );
    return updated > 0;
  }
}
