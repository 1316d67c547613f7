import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import Stripe from 'stripe';

/** The injection token of the Stripe client: `Stripe`, or null when billing is disabled. */
export const STRIPE_CLIENT = Symbol('STRIPE_CLIENT');

export interface StripeClientSettings {
  STRIPE_SECRET_KEY: string;
  STRIPE_API_URL: string;
}

/** Billing is enabled exactly when a Stripe key is configured. */
export function isBillingEnabled(
  settings: Pick<StripeClientSettings, 'STRIPE_SECRET_KEY'>,
): boolean {
  return settings.STRIPE_SECRET_KEY !== '';
}

/**
 * The official SDK, pointed at STRIPE_API_URL (Stripe itself, or the fake Stripe in tests and the
 * demo) through its host/port/protocol options. The SDK's own retries are on: it retries network
 * errors and 409/429/5xx answers with the same idempotency key, which is safe for every call we
 * make (each carries a key of its own where a repeat would matter).
 */
export function createStripeClient(settings: StripeClientSettings): Stripe | null {
  if (!isBillingEnabled(settings)) return null;
  const url = new URL(settings.STRIPE_API_URL);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return new Stripe(settings.STRIPE_SECRET_KEY, {
    host: url.hostname,
    port: url.port || (protocol === 'http' ? 80 : 443),
    protocol,
    maxNetworkRetries: 2,
    timeout: 20_000,
    appInfo: { name: 'SubscriberNest' },
  });
}

/** Provides STRIPE_CLIENT from the validated config (both apps import it). */
@Module({
  providers: [
    {
      provide: STRIPE_CLIENT,
      inject: [ConfigService],
      useFactory: (config: ConfigService<StripeClientSettings, true>) =>
        createStripeClient({
          STRIPE_SECRET_KEY: config.get('STRIPE_SECRET_KEY', { infer: true }),
          STRIPE_API_URL: config.get('STRIPE_API_URL', { infer: true }),
        }),
    },
  ],
  exports: [STRIPE_CLIENT],
})
export class StripeClientModule {}
