/** The price settings (integer cents and subscriber counts), as SharedEnv holds them. */
export interface BillingPriceSettings {
  /** What a month costs with 1 to BILLING_INCLUDED_SUBSCRIBERS subscribers. */
  BILLING_BASE_PRICE_CENTS: number;
  /** Subscribers the base price covers. */
  BILLING_INCLUDED_SUBSCRIBERS: number;
  /** What each further block of BILLING_STEP_SUBSCRIBERS (or part of one) adds. */
  BILLING_STEP_PRICE_CENTS: number;
  /** Size of one block above the included subscribers. */
  BILLING_STEP_SUBSCRIBERS: number;
}

/** The defaults: $5 up to 10,000 subscribers, then $1 per further 10,000 started. */
export const BILLING_PRICE_DEFAULTS: BillingPriceSettings = {
  BILLING_BASE_PRICE_CENTS: 500,
  BILLING_INCLUDED_SUBSCRIBERS: 10_000,
  BILLING_STEP_PRICE_CENTS: 100,
  BILLING_STEP_SUBSCRIBERS: 10_000,
};

/**
 * A month's price in integer cents for its billed subscriber count: nothing with no subscribers,
 * the base price up to the included subscribers, then one step price for each further block
 * started (100,000 subscribers at the defaults: 500 + 9 × 100 = 1400).
 */
export function monthlyAmountCents(
  subscriberCount: number,
  settings: BillingPriceSettings = BILLING_PRICE_DEFAULTS,
): number {
  if (!Number.isSafeInteger(subscriberCount) || subscriberCount < 0) {
    throw new RangeError(`subscriber count must be a whole number ≥ 0, got ${subscriberCount}`);
  }
  if (subscriberCount === 0) return 0;
  const above = Math.max(0, subscriberCount - settings.BILLING_INCLUDED_SUBSCRIBERS);
  const steps = Math.ceil(above / settings.BILLING_STEP_SUBSCRIBERS);
  return settings.BILLING_BASE_PRICE_CENTS + steps * settings.BILLING_STEP_PRICE_CENTS;
}

/** Integer cents as the dollars the frontend shows (1400 → 14, 550 → 5.5). */
export function centsToDollars(cents: number): number {
  return cents / 100;
}

/** A UTC calendar month: `[start, end)`, as instants and as `YYYY-MM-DD` days. */
export interface BillingMonth {
  start: Date;
  end: Date;
  startDay: string;
  endDay: string;
}

/** The UTC month `at` falls in: from its first instant to the first instant of the next. */
export function billingMonthOf(at: Date): BillingMonth {
  const start = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
  const end = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
  return {
    start,
    end,
    startDay: start.toISOString().slice(0, 10),
    endDay: end.toISOString().slice(0, 10),
  };
}

/** The month that ended before `at`'s month began: what the monthly billing tick at `at` closes. */
export function previousBillingMonth(at: Date): BillingMonth {
  return billingMonthOf(new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() - 1, 1)));
}

/**
 * The month a `close-period` job names by its first day (`YYYY-MM-01`); throws on anything else,
 * so a malformed payload never bills a made-up period.
 */
export function billingMonthStarting(periodStart: string): BillingMonth {
  const match = /^(\d{4})-(\d{2})-01$/.exec(periodStart);
  const month = match ? Number(match[2]) : 0;
  if (!match || month < 1 || month > 12) {
    throw new RangeError(`a billing period starts on the first of a month (YYYY-MM-01)`);
  }
  return billingMonthOf(new Date(Date.UTC(Number(match[1]), month - 1, 1)));
}

/** The price settings out of a service's validated config (both services price the same way). */
export function billingPricesFrom(config: {
  get<K extends keyof BillingPriceSettings>(
    key: K,
    options: { infer: true },
  ): BillingPriceSettings[K];
}): BillingPriceSettings {
  return {
    BILLING_BASE_PRICE_CENTS: config.get('BILLING_BASE_PRICE_CENTS', { infer: true }),
    BILLING_INCLUDED_SUBSCRIBERS: config.get('BILLING_INCLUDED_SUBSCRIBERS', { infer: true }),
    BILLING_STEP_PRICE_CENTS: config.get('BILLING_STEP_PRICE_CENTS', { infer: true }),
    BILLING_STEP_SUBSCRIBERS: config.get('BILLING_STEP_SUBSCRIBERS', { infer: true }),
  };
}
