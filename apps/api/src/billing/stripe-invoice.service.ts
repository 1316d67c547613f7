import { Injectable } from '@nestjs/common';
import type Stripe from 'stripe';
import { EntityManager } from 'typeorm';
import { BillingAccountRepository } from './billing-account.repository';
import { BillingPeriodRepository, InvoiceOutcome } from './billing-period.repository';
import { stripeObjectId } from './stripe-object-id';
import { WebhookOutcome } from './webhook-outcome';

/** How `invoice.paid` and `invoice.payment_failed` reach `billing_periods`. */
@Injectable()
export class StripeInvoiceService {
  constructor(
    private readonly accounts: BillingAccountRepository,
    private readonly periods: BillingPeriodRepository,
  ) {}

  /**
   * Marks the invoice's period `paid` or `failed`, in `manager`'s transaction. The period is the
   * user's one holding this invoice id, else their newest `reported` month without an invoice.
   * The invoice Stripe raises when a subscription starts (`subscription_create`, $0 for a metered
   * price) bills no month of ours, so it is only ever matched by id, never attached to a month.
   */
  async apply(
    manager: EntityManager,
    invoice: Stripe.Invoice,
    status: InvoiceOutcome['status'],
    eventAt: Date,
  ): Promise<WebhookOutcome> {
    const customerId = stripeObjectId(invoice.customer);
    const account = customerId ? await this.accounts.lockByCustomer(manager, customerId) : null;
    if (!account || !invoice.id) return 'unknown_customer';

    const matchReported = invoice.billing_reason !== 'subscription_create';
    const period = await this.periods.lockForInvoice(
      manager,
      account.userId,
      invoice.id,
      matchReported,
    );
    if (!period) return 'no_period';
    const written = await this.periods.writeInvoice(manager, period.id, {
      status,
      invoiceId: invoice.id,
      eventAt,
    });
    return written ? 'applied' : 'stale';
  }
}
