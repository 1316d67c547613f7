import { isManualCron, manualTickOf, runCronJobId } from './manual-cron-ticks';

describe('manual cron ticks', () => {
  it('have one job id per cron per UTC minute, in a form BullMQ accepts', () => {
    const at = new Date('2025-01-31T23:59:41.123Z');
    expect(runCronJobId('midnight-sync', at)).toBe('run-cron:midnight-sync:202501312359');
    expect(runCronJobId('midnight-sync', new Date('2025-01-31T23:59:00.000Z'))).toBe(
      runCronJobId('midnight-sync', at),
    );
    expect(runCronJobId('midnight-sync', at).split(':')).toHaveLength(3);
  });

  it('stand for the minute they were requested in', () => {
    expect(manualTickOf(new Date('2025-01-31T23:59:41.123Z'))).toEqual(
      new Date('2025-01-31T23:59:00.000Z'),
    );
  });

  it('exist only for crons the worker implements', () => {
    expect(isManualCron('midnight-sync')).toBe(true);
    expect(isManualCron('outbox-sweep')).toBe(false);
    expect(isManualCron('constructor')).toBe(false);
  });
});
