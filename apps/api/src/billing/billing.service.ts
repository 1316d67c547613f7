import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  ApiEnv,
  BillingPriceSettings,
  BillingUsageRepository,
  billingMonthOf,
  centsToDollars,
  monthlyAmountCents,
} from '@subscribernest/shared';
import { BillingPeriodRepository } from './billing-period.repository';
import { BillingPeriodDto } from './dto/billing-period.dto';
import { BillingStatusDto } from './dto/billing-status.dto';
import { BillingUsageDto } from './dto/billing-usage.dto';

/**
 * Billing as the frontend reads it. Stripe is not wired in yet, so billing is disabled on every
 * server: every user counts as subscribed, and nothing is charged.
 */
@Injectable()
export class BillingService {
  /** False until Stripe is configured (a later release); then derived from its settings. */
  readonly billingEnabled = false;
  private readonly prices: BillingPriceSettings;

  constructor(
    config: ConfigService<ApiEnv, true>,
    private readonly usageRepository: BillingUsageRepository,
    private readonly periods: BillingPeriodRepository,
  ) {
    this.prices = {
      BILLING_BASE_PRICE_CENTS: config.get('BILLING_BASE_PRICE_CENTS', { infer: true }),
      BILLING_INCLUDED_SUBSCRIBERS: config.get('BILLING_INCLUDED_SUBSCRIBERS', { infer: true }),
      BILLING_STEP_PRICE_CENTS: config.get('BILLING_STEP_PRICE_CENTS', { infer: true }),
      BILLING_STEP_SUBSCRIBERS: config.get('BILLING_STEP_SUBSCRIBERS', { infer: true }),
    };
  }

  status(): BillingStatusDto {
    return {
      hasActiveSubscription: true,
      subscription: null,
      currentPeriodEnd: null,
      billingEnabled: this.billingEnabled,
    };
  }

  /** The current UTC month so far. */
  async usage(userId: string, now = new Date()): Promise<BillingUsageDto> {
    const month = billingMonthOf(now);
    const maxSubscriberCount = await this.usageRepository.billedSubscriberCount(
      userId,
      month.startDay,
      month.endDay,
    );
    return {
      maxSubscriberCount,
      calculatedAmount: centsToDollars(monthlyAmountCents(maxSubscriberCount, this.prices)),
      billingPeriodStart: month.start.toISOString(),
      billingPeriodEnd: month.end.toISOString(),
    };
  }

  async history(userId: string, limit: number): Promise<BillingPeriodDto[]> {
    return (await this.periods.findRecent(userId, limit)).map((period) =>
      BillingPeriodDto.from(period),
    );
  }
}
