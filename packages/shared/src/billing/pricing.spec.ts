import { validateEnv } from '../config/validate-env';
import { SharedEnv } from '../config/env.schema';
import { billingMonthOf, centsToDollars, monthlyAmountCents } from './pricing';

describe('monthlyAmountCents (defaults: $5 up to 10,000, then $1 per 10,000 started)', () => {
  it.each([
    [0, 0],
    [1, 500],
    [10_000, 500],
    [10_001, 600],
    [20_000, 600],
    [20_001, 700],
    [100_000, 1400],
    [1_000_000, 10_400],
  ])('%i subscribers → %i cents', (count, cents) => {
    expect(monthlyAmountCents(count)).toBe(cents);
  });

  it('follows other settings', () => {
    const settings = {
      BILLING_BASE_PRICE_CENTS: 900,
      BILLING_INCLUDED_SUBSCRIBERS: 1_000,
      BILLING_STEP_PRICE_CENTS: 250,
      BILLING_STEP_SUBSCRIBERS: 500,
    };
    expect(monthlyAmountCents(1_000, settings)).toBe(900);
    expect(monthlyAmountCents(1_001, settings)).toBe(1_150);
    expect(monthlyAmountCents(2_000, settings)).toBe(1_400);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses %p', (count) => {
    expect(() => monthlyAmountCents(count)).toThrow(RangeError);
  });

  it('answers dollars as numbers', () => {
    expect(centsToDollars(1400)).toBe(14);
    expect(centsToDollars(500)).toBe(5);
    expect(centsToDollars(0)).toBe(0);
  });
});

describe('billingMonthOf', () => {
  it('is the UTC month, end exclusive', () => {
    expect(billingMonthOf(new Date('2026-12-31T23:59:59.999Z'))).toEqual({
      start: new Date('2026-12-01T00:00:00.000Z'),
      end: new Date('2027-01-01T00:00:00.000Z'),
      startDay: '2026-12-01',
      endDay: '2027-01-01',
    });
    expect(billingMonthOf(new Date('2026-02-01T00:00:00.000Z')).endDay).toBe('2026-03-01');
  });
});

describe('billing price settings', () => {
  const base = {
    DATABASE_URL: 'postgres://u:p@localhost:5432/db',
    REDIS_URL: 'redis://localhost:6379',
    ENCRYPTION_KEY: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
    HMAC_KEY: Buffer.alloc(32, 2).toString('base64'),
  };

  it('default to $5 / 10,000 / $1 / 10,000', () => {
    expect(validateEnv(SharedEnv, base)).toMatchObject({
      BILLING_BASE_PRICE_CENTS: 500,
      BILLING_INCLUDED_SUBSCRIBERS: 10_000,
      BILLING_STEP_PRICE_CENTS: 100,
      BILLING_STEP_SUBSCRIBERS: 10_000,
    });
  });

  it.each([
    ['BILLING_BASE_PRICE_CENTS', '-1'],
    ['BILLING_BASE_PRICE_CENTS', '4.5'],
    ['BILLING_INCLUDED_SUBSCRIBERS', '0'],
    ['BILLING_STEP_PRICE_CENTS', '10000001'],
    ['BILLING_STEP_SUBSCRIBERS', '0'],
    ['BILLING_STEP_SUBSCRIBERS', 'abc'],
  ])('refuse %s=%s, naming it', (name, value) => {
    expect(() => validateEnv(SharedEnv, { ...base, [name]: value })).toThrow(name);
  });
});
