import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { STRIPE_CLIENT, WorkerEnv } from '@subscribernest/shared';
import Stripe from 'stripe';

/** Stripe accepts meter events up to 35 days old; stay a day inside that. */
export const METER_EVENT_MAX_AGE_DAYS = 34;
const MAX_EVENT_AGE_MS = METER_EVENT_MAX_AGE_DAYS * 24 * 60 * 60 * 1000;

export interface MeterReport {
  customerId: string;
  /** One per user and month (meterEventIdentifier): Stripe refuses a second event with it. */
  identifier: string;
  value: number;
  /** When the event is dated (meterEventDate), fixed on the period before the first send. */
  timestamp: Date;
}

/**
 * The date of a month's meter event: the month's last second; now, for a month not over yet (an
 * admin closing the running month; Stripe refuses future events); the oldest Stripe takes, for a
 * month older than that (a tick caught up late).
 */
export function meterEventDate(monthEnd: Date, now = new Date()): Date {
  const lastSecond = Math.floor(monthEnd.getTime() / 1000) * 1000 - 1000;
  const oldest = Math.ceil((now.getTime() - MAX_EVENT_AGE_MS) / 1000) * 1000;
  return new Date(Math.min(Math.floor(now.getTime() / 1000) * 1000, Math.max(lastSecond, oldest)));
}

/** The meter event's identifier for one user's month; also its idempotency key. */
export function meterEventIdentifier(userId: string, periodStart: string): string {
  return `close-period:${userId}:${periodStart.slice(0, 7)}`;
}

/**
 * Reports a month's usage to Stripe's Billing Meters API (`billing.meterEvents.create`; the legacy
 * usage-records call no longer exists). Twice over safe to repeat, given the same report (its
 * value and date are fixed on the period before the first send): the request carries the
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

  async report(report: MeterReport): Promise<'accepted' | 'duplicate'> {
    if (!this.stripe) throw new Error('Stripe is not configured');
    const timestamp = Math.floor(report.timestamp.getTime() / 1000);
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
