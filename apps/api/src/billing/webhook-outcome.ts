/**
 * What applying one Stripe webhook event did, as stored in `stripe_webhook_events.outcome` and
 * logged. Every outcome is answered 200: Stripe retrying the same event would find the same facts.
 * Only an error while applying (rolled back, answered 5xx) asks Stripe for a retry.
 */
export const WEBHOOK_OUTCOMES = [
  /** The state it carried was written. */
  'applied',
  /** Older (`created`) than the state already stored: nothing changed. */
  'stale',
  /** A type this api does not handle. */
  'ignored',
  /** No billing account has its customer, and its metadata names no user of ours. */
  'unknown_customer',
  /** About a subscription that is not the account's own, and it would not replace that one. */
  'other_subscription',
  /** An invoice event with no billing period to attach it to. */
  'no_period',
] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];
