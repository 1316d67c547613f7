import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { STRIPE_CLIENT, WorkerEnv } from '@subscribernest/shared';
import Stripe from 'stripe';

/** Stripe accepts meter events up to 35 days old; stay a day inside that. */
const MAX_EVENT_AGE_SECONDS = 34 * 24 * 60 * 60;

export interface MeterReport {
  customerId: string;
  /** One per user and month (meterEventIdentifier): Stripe refuses a second event with it. */
  identifier: string;
  value: number;
  /** The last second of the month billed. */
  monthEnd: Date;
}

/** The meter event's identifier for one user's month; also its idempotency key. */
export function meterEventIdentifier(userId: string, periodStart: string): string {
  return `close-period:${userId}:${periodStart.slice(0, 7)}`;
}

/**
 * Reports a month's usage to Stripe's Billing Meters API (`billing.meterEvents.create`; the legacy
 * usage-records call no longer exists). Twice over safe to repeat: the request carries the
 * identifier as its idempotency key (a retry within Stripe's 24 h replays the first answer) and the
 * identifier itself, which Stripe's meter never counts twice; a refusal naming the identifier
 * means an earlier attempt's event was accepted.
 */
@Injectable()
export class StripeMeterReporter {
  private readonly eventName: string;

  constructor(
    @Inject(STRIPE_CLIENT) private readonly stripe: Stripe | null,
    config: ConfigService<WorkerEnv, true>,
  ) {
    this.eventName = config.get('STRIPE_METER_EVENT_NAME', { infer: true });
  }

  get enabled(): boolean {
    return this.stripe !== null;
  }

  async report(report: MeterReport, now = new Date()): Promise<'accepted' | 'duplicate'> {
    if (!this.stripe) throw new Error('Stripe is not configured');
    const nowSeconds = Math.floor(now.getTime() / 1000);
    // The month's last second, unless the month is older than Stripe takes (a tick caught up late).
    const timestamp = Math.min(
      nowSeconds,
      Math.max(
        Math.floor(report.monthEnd.getTime() / 1000) - 1,
        nowSeconds - MAX_EVENT_AGE_SECONDS,
      ),
    );
    try {
      await this.stripe.billing.meterEvents.create(
        {
          event_name: this.eventName,
          identifier: report.identifier,
          payload: { stripe_customer_id: report.customerId, value: String(report.value) },
          timestamp,
        },
        { idempotencyKey: report.identifier },
      );
      return 'accepted';
    } catch (error) {
      if (
        error instanceof Stripe.errors.StripeInvalidRequestError &&
        (error.code === 'duplicate_meter_event' || error.param === 'identifier')
      ) {
        return 'duplicate';
      }
      throw error;
    }
  }
}
