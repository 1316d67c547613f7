import { meterEventDate } from './stripe-meter-reporter';

describe('meterEventDate', () => {
  const decemberEnd = new Date('2026-01-01T00:00:00.000Z');

  it('dates a month that is over at its last second', () => {
    expect(meterEventDate(decemberEnd, new Date('2026-01-01T01:00:00.250Z'))).toEqual(
      new Date('2025-12-31T23:59:59.000Z'),
    );
  });

  it('dates the running month now, to the second (Stripe refuses events in the future)', () => {
    expect(meterEventDate(decemberEnd, new Date('2025-12-15T10:20:30.999Z'))).toEqual(
      new Date('2025-12-15T10:20:30.000Z'),
    );
  });

  it('dates a month older than Stripe takes at the oldest second it still accepts', () => {
    const now = new Date('2026-03-01T12:00:00.400Z');
    expect(meterEventDate(decemberEnd, now)).toEqual(new Date('2026-01-26T12:00:01.000Z'));
  });
});
