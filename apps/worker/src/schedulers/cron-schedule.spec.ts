import { ACCOUNT_DELETION_SCHEDULE } from '../account-deletion/account-deletion.scheduler';
import { DATA_RETENTION_SCHEDULE } from '../retention/data-retention.scheduler';
import { previousCronTick } from './cron-schedule';

const at = (iso: string) => new Date(iso);

describe('previousCronTick', () => {
  it('finds the last midnight (UTC) at or before an instant', () => {
    expect(previousCronTick('0 0 * * *', at('2025-03-04T13:45:10.500Z'))).toEqual(
      at('2025-03-04T00:00:00.000Z'),
    );
    expect(previousCronTick('0 0 * * *', at('2025-03-04T00:00:00.000Z'))).toEqual(
      at('2025-03-04T00:00:00.000Z'),
    );
    expect(previousCronTick('0 0 * * *', at('2025-03-03T23:59:59.999Z'))).toEqual(
      at('2025-03-03T00:00:00.000Z'),
    );
  });

  it('handles monthly and daily schedules across month and year boundaries', () => {
    expect(previousCronTick('0 1 1 * *', at('2025-03-01T00:59:00Z'))).toEqual(
      at('2025-02-01T01:00:00Z'),
    );
    expect(previousCronTick('0 1 1 * *', at('2025-01-15T12:00:00Z'))).toEqual(
      at('2025-01-01T01:00:00Z'),
    );
    expect(previousCronTick('0 3 * * *', at('2025-01-01T02:00:00Z'))).toEqual(
      at('2024-12-31T03:00:00Z'),
    );
  });

  it('handles frequent and rare schedules', () => {
    expect(previousCronTick('*/5 * * * *', at('2025-03-04T10:07:30Z'))).toEqual(
      at('2025-03-04T10:05:00Z'),
    );
    expect(previousCronTick('0 0 29 2 *', at('2025-03-01T00:00:00Z'))).toEqual(
      at('2024-02-29T00:00:00Z'),
    );
  });

  it('puts the data-retention tick at 03:30 UTC every day', () => {
    expect(DATA_RETENTION_SCHEDULE).toBe('30 3 * * *');
    expect(previousCronTick(DATA_RETENTION_SCHEDULE, at('2025-03-04T03:29:59.999Z'))).toEqual(
      at('2025-03-03T03:30:00.000Z'),
    );
    expect(previousCronTick(DATA_RETENTION_SCHEDULE, at('2025-03-04T03:30:00.000Z'))).toEqual(
      at('2025-03-04T03:30:00.000Z'),
    );
    expect(previousCronTick(DATA_RETENTION_SCHEDULE, at('2025-01-01T00:00:00.000Z'))).toEqual(
      at('2024-12-31T03:30:00.000Z'),
    );
  });

  it('puts the account-deletion tick at 03:00 UTC every day', () => {
    expect(ACCOUNT_DELETION_SCHEDULE).toBe('0 3 * * *');
    expect(previousCronTick(ACCOUNT_DELETION_SCHEDULE, at('2025-03-04T02:59:59.999Z'))).toEqual(
      at('2025-03-03T03:00:00.000Z'),
    );
    expect(previousCronTick(ACCOUNT_DELETION_SCHEDULE, at('2025-03-04T03:00:00.000Z'))).toEqual(
      at('2025-03-04T03:00:00.000Z'),
    );
  });

  it('reads the expression in the given time zone', () => {
    // Midnight in New York (EST, UTC-5) is 05:00 UTC.
    expect(previousCronTick('0 0 * * *', at('2025-01-10T12:00:00Z'), 'America/New_York')).toEqual(
      at('2025-01-10T05:00:00Z'),
    );
  });
});
