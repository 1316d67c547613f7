export * from './fake-stripe-server';
export * from './webhook-signature';
export { FAKE_STRIPE_PRICE_ID } from './fake-stripe-objects';
export type { FakeSubscriptionOptions, FakeSubscriptionPatch } from './fake-stripe-state';
