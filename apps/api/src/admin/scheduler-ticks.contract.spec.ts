import { runCronJobId } from './scheduler-ticks.contract';

describe('runCronJobId', () => {
  it('is one id per cron per UTC minute, in a form BullMQ accepts', () => {
    const at = new Date('2025-01-31T23:59:41.123Z');
    expect(runCronJobId('midnight-sync', at)).toBe('run-cron:midnight-sync:202501312359');
    expect(runCronJobId('midnight-sync', new Date('2025-01-31T23:59:00.000Z'))).toBe(
      runCronJobId('midnight-sync', at),
    );
    expect(runCronJobId('monthly-billing', at).split(':')).toHaveLength(3);
  });
});
