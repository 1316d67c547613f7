import { createHmac } from 'node:crypto';

/** The signing secret of the fake's webhook endpoint (what STRIPE_WEBHOOK_SECRET is set to). */
export const FAKE_STRIPE_WEBHOOK_SECRET = 'whsec_test_subscribernest_fake';

/**
 * A `Stripe-Signature` header for `payload`, exactly as Stripe signs webhook deliveries:
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<payload>" keyed with the secret>`, so
 * `stripe.webhooks.constructEvent(payload, header, secret)` accepts it. Sign the exact bytes you
 * post (any re-serialisation breaks the signature, as with Stripe).
 */
export function signStripeWebhook(
  payload: string,
  secret: string,
  timestampSeconds = Math.floor(Date.now() / 1000),
): string {
  const signature = createHmac('sha256', secret)
    .update(`${timestampSeconds}.${payload}`, 'utf8')
    .digest('hex');
  return `t=${timestampSeconds},v1=${signature}`;
}
