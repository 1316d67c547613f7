import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  BillingMonth,
  BillingPeriodStatus,
  BillingPriceSettings,
  billingPricesFrom,
  BillingUsageRepository,
  billingMonthStarting,
  JOB,
  monthlyAmountCents,
  PayloadOf,
  WorkerEnv,
} from '@subscribernest/shared';
import { Job, UnrecoverableError } from 'bullmq';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { BillingPeriodRepository } from './billing-period.repository';
import { meterEventDate, meterEventIdentifier, StripeMeterReporter } from './stripe-meter-reporter';

/**
 * What a `close-period` job did (its return value and its log line; ids and figures only):
 * `closed` with the period's status now, `already-closed` when an earlier attempt or tick had
 * reported the month (nothing done), `gone` when the user no longer exists.
 */
export interface ClosePeriodResult {
  result: 'closed' | 'already-closed' | 'gone';
  status: BillingPeriodStatus | null;
  maxSubscriberCount: number;
  amountCents: number;
}

/**
 * Closes one user's month: the billed count (each connection's peak stored count, summed) and its
 * price go into the user's `billing_periods` row for the month, and, with Stripe configured and a
 * customer to bill, the amount is reported to the meter; without, the month is `not_invoiced`
 * ($0 months are `skipped`). Every step is idempotent, so a retried job, a re-run tick or an
 * admin's manual run changes nothing that was already done and never reports a month twice.
 */
@Injectable()
export class ClosePeriodService {
  private readonly prices: BillingPriceSettings;

  constructor(
    private readonly periods: BillingPeriodRepository,
    private readonly usage: BillingUsageRepository,
    private readonly meter: StripeMeterReporter,
    config: ConfigService<WorkerEnv, true>,
    @InjectPinoLogger(ClosePeriodService.name) private readonly logger: PinoLogger,
  ) {
    this.prices = billingPricesFrom(config);
  }

  async closePeriod(data: PayloadOf<typeof JOB.closePeriod>, job: Job): Promise<ClosePeriodResult> {
    const month = this.monthOf(data.periodStart);
    const count = await this.usage.billedSubscriberCount(data.userId, month.startDay, month.endDay);
    const amount = monthlyAmountCents(count, this.prices);
    const period = await this.periods.upsertOpenPeriod(data.userId, month, count, amount);

    let result: ClosePeriodResult;
    if (!period) {
      result = { result: 'gone', status: null, maxSubscriberCount: count, amountCents: amount };
    } else if (
      period.status !== 'pending' &&
      period.status !== 'not_invoiced' &&
      period.status !== 'skipped'
    ) {
      result = {
        result: 'already-closed',
        status: period.status,
        maxSubscriberCount: period.maxSubscriberCount,
        amountCents: period.amountCents,
      };
    } else {
      // The row's figures, not this attempt's: once a meter event was sent they no longer move.
      const { maxSubscriberCount, amountCents } = period;
      const status = await this.settle(
        period.id,
        data.userId,
        data.periodStart,
        amountCents,
        month,
      );
      result = { result: 'closed', status, maxSubscriberCount, amountCents };
    }
    this.logger.info(
      { userId: data.userId, periodStart: data.periodStart, jobId: job.id, ...result },
      `close period: ${result.result}`,
    );
    return result;
  }

  /** A payload naming no first-of-month can never succeed: failed at once, nothing written. */
  private monthOf(periodStart: string): BillingMonth {
    try {
      return billingMonthStarting(periodStart);
    } catch (error) {
      throw new UnrecoverableError(`close-period job: ${(error as Error).message}`);
    }
  }

  /** Reports the amount, or closes the month without Stripe; returns the status written. */
  private async settle(
    periodId: string,
    userId: string,
    periodStart: string,
    amountCents: number,
    month: BillingMonth,
  ): Promise<BillingPeriodStatus> {
    if (amountCents === 0) {
      await this.periods.close(periodId, 'skipped');
      return 'skipped';
    }
    const customerId = this.meter.enabled ? await this.periods.stripeCustomerOf(userId) : null;
    if (!customerId) {
      await this.periods.close(periodId, 'not_invoiced');
      return 'not_invoiced';
    }
    // Date and amount fixed before the first send: a retry sends Stripe the very same request.
    const event = await this.periods.fixMeterEvent(periodId, meterEventDate(month.end));
    if (!event) {
      // Closed by someone else since this attempt read it: the retry reports what it is now.
      throw new Error(`billing period ${periodId} was closed while this attempt settled it`);
    }
    const identifier = meterEventIdentifier(userId, periodStart);
    const answer = await this.meter.report({
      customerId,
      identifier,
      value: event.amountCents,
      timestamp: event.meterEventAt,
    });
    if (answer === 'duplicate') {
      this.logger.info(
        { userId, periodStart, identifier },
        'close period: Stripe already had this month (an earlier attempt reported it)',
      );
    }
    await this.periods.markReported(periodId, identifier, event.amountCents);
    return 'reported';
  }
}
