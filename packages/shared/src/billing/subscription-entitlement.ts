/**
 * Who may start work that costs money (a new connection, a sync) when Stripe is configured: a
 * user whose subscription is `active` or `trialing`, or one that is `canceled` or `past_due` but
 * still inside the period it paid for (Stripe's `current_period_end`). The api's gate and the
 * midnight fan-out both ask this, the first in code, the second in SQL; the two are kept together
 * here so that they cannot drift apart. Reads and exports never ask: an owner can always take
 * their data out.
 */
export const ENTITLED_SUBSCRIPTION_STATUSES = ['active', 'trialing'] as const;
export const PAID_UNTIL_PERIOD_END_STATUSES = ['canceled', 'past_due'] as const;

export interface SubscriptionState {
  subscriptionStatus: string | null;
  currentPeriodEnd: Date | null;
}

export function hasEntitledSubscription(
  account: SubscriptionState | null,
  now: Date = new Date(),
): boolean {
  if (!account?.subscriptionStatus) return false;
  if ((ENTITLED_SUBSCRIPTION_STATUSES as readonly string[]).includes(account.subscriptionStatus)) {
    return true;
  }
  return (
    (PAID_UNTIL_PERIOD_END_STATUSES as readonly string[]).includes(account.subscriptionStatus) &&
    account.currentPeriodEnd !== null &&
    account.currentPeriodEnd.getTime() > now.getTime()
  );
}

const quoted = (statuses: readonly string[]) => statuses.map((s) => `'${s}'`).join(', ');

/**
 * The same rule as SQL over a `billing_accounts` row aliased `alias` (true when the user has an
 * entitled subscription; a user without a row has none).
 */
export function entitledSubscriptionSql(alias: string): string {
  return `(${alias}.subscription_status IN (${quoted(ENTITLED_SUBSCRIPTION_STATUSES)})
      OR (${alias}.subscription_status IN (${quoted(PAID_UNTIL_PERIOD_END_STATUSES)})
          AND ${alias}.current_period_end > now()))`;
}
