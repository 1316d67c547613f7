import type Stripe from 'stripe';
import { isEndedSubscription, subscriptionSnapshotOf } from './subscription-snapshot';

const PERIOD_END = 1_800_000_000;

function subscription(fields: Partial<Stripe.Subscription> & Record<string, unknown>) {
  return {
    id: 'sub_1',
    object: 'subscription',
    customer: 'cus_1',
    status: 'active',
    cancel_at_period_end: false,
    metadata: { userId: 'u-1' },
    items: { object: 'list', data: [{ current_period_end: PERIOD_END }] },
    ...fields,
  } as unknown as Stripe.Subscription;
}

describe('subscriptionSnapshotOf', () => {
  it("reads the period end from the first item (this API version's place for it)", () => {
    expect(subscriptionSnapshotOf(subscription({}))).toEqual({
      subscriptionId: 'sub_1',
      customerId: 'cus_1',
      status: 'active',
      currentPeriodEnd: new Date(PERIOD_END * 1000),
      cancelAtPeriodEnd: false,
      metadataUserId: 'u-1',
    });
  });

  it('falls back to a top-level current_period_end, and to null without either', () => {
    const legacy = subscription({
      items: { object: 'list', data: [] } as unknown as Stripe.Subscription['items'],
      current_period_end: PERIOD_END + 60,
    });
    expect(subscriptionSnapshotOf(legacy).currentPeriodEnd).toEqual(
      new Date((PERIOD_END + 60) * 1000),
    );
    const none = subscription({
      items: { object: 'list', data: [] } as unknown as Stripe.Subscription['items'],
    });
    expect(subscriptionSnapshotOf(none).currentPeriodEnd).toBeNull();
  });

  it('takes the id of an expanded customer, and no user from empty metadata', () => {
    const snapshot = subscriptionSnapshotOf(
      subscription({
        customer: { id: 'cus_2' } as Stripe.Customer,
        metadata: {},
        cancel_at_period_end: true,
      }),
    );
    expect(snapshot).toMatchObject({
      customerId: 'cus_2',
      metadataUserId: null,
      cancelAtPeriodEnd: true,
    });
  });
});

describe('isEndedSubscription', () => {
  it('is true for canceled and incomplete_expired only', () => {
    expect(['canceled', 'incomplete_expired'].map(isEndedSubscription)).toEqual([true, true]);
    expect(
      ['active', 'trialing', 'past_due', 'incomplete', 'unpaid', 'paused'].some(
        isEndedSubscription,
      ),
    ).toBe(false);
  });
});
