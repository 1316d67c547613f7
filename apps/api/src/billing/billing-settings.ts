import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiEnv, isBillingEnabled } from '@subscribernest/shared';

/**
 * The Stripe settings the billing routes read, taken from the validated config once. The config
 * schema already requires the webhook secret and the price when a key is set, so `enabled`
 * implies both are present.
 */
@Injectable()
export class BillingSettings {
  /** True exactly when STRIPE_SECRET_KEY is set (the same rule as STRIPE_CLIENT's factory). */
  readonly enabled: boolean;
  readonly priceId: string;
  readonly webhookSecret: string;
  /** The frontend's billing page: Checkout and the portal send the owner back there. */
  readonly returnUrl: string;

  constructor(config: ConfigService<ApiEnv, true>) {
    this.enabled = isBillingEnabled({
      STRIPE_SECRET_KEY: config.get('STRIPE_SECRET_KEY', { infer: true }),
    });
    this.priceId = config.get('STRIPE_PRICE_ID', { infer: true });
    this.webhookSecret = config.get('STRIPE_WEBHOOK_SECRET', { infer: true });
    this.returnUrl = config.get('BILLING_RETURN_URL', { infer: true });
  }
}
