import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  ApiEnv,
  BillingPriceSettings,
  billingPricesFrom,
  BillingUsageRepository,
  billingMonthOf,
  centsToDollars,
  monthlyAmountCents,
} from '@subscribernest/shared';
import { BillingAccountRepository } from './billing-account.repository';
import { BillingPeriodRepository } from './billing-period.repository';
import { BillingSettings } from './billing-settings';
import { BillingPeriodDto } from './dto/billing-period.dto';
import { BillingStatusDto } from './dto/billing-status.dto';
import { BillingUsageDto } from './dto/billing-usage.dto';

/**
 * Billing as the frontend reads it. Without Stripe (no STRIPE_SECRET_KEY) every user counts as
 * subscribed and nothing is charged; with it, the subscription state is what the webhooks and
 * the checkout verification last stored in billing_accounts.
 */
@Injectable()
export class BillingService {
  private readonly prices: BillingPriceSettings;

  constructor(
    config: ConfigService<ApiEnv, true>,
    private readonly settings: BillingSettings,
    private readonly usageRepository: BillingUsageRepository,
    private readonly periods: BillingPeriodRepository,
    private readonly accounts: BillingAccountRepository,
  ) {
    this.prices = billingPricesFrom(config);
  }

  async status(userId: string): Promise<BillingStatusDto> {
    if (!this.settings.enabled) return BillingStatusDto.disabled();
    return BillingStatusDto.from(await this.accounts.findByUserId(userId));
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
