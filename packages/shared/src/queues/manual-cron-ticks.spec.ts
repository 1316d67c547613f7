import { isManualCron, manualTickOf, rerunCronTickJobId, runCronJobId } from './manual-cron-ticks';

describe('manual cron ticks', () => {
  it('have one job id per cron per UTC minute, in a form BullMQ accepts', () => {
    const at = new Date('2025-01-31T23:59:41.123Z');
    expect(runCronJobId('midnight-sync', at)).toBe('run-cron:midnight-sync:202501312359');
    expect(runCronJobId('midnight-sync', new Date('2025-01-31T23:59:00.000Z'))).toBe(
      runCronJobId('midnight-sync', at),
    );
    expect(runCronJobId('midnight-sync', at).split(':')).toHaveLength(3);
  });

  it('re-run a cron_runs row once per attempt count, in a form BullMQ accepts', () => {
    const id = '6f1c1f0e-4a43-4c1b-9d55-0c7c2b1f4b6a';
    expect(rerunCronTickJobId(id, 2)).toBe(`rerun-cron-tick:${id}:2`);
    expect(rerunCronTickJobId(id, 2).split(':')).toHaveLength(3);
    expect(rerunCronTickJobId(id, 3)).not.toBe(rerunCronTickJobId(id, 2));
  });

  it('stand for the minute they were requested in', () => {
    expect(manualTickOf(new Date('2025-01-31T23:59:41.123Z'))).toEqual(
      new Date('2025-01-31T23:59:00.000Z'),
    );
  });

  it('exist only for crons the worker implements', () => {
    expect(isManualCron('midnight-sync')).toBe(true);
    expect(isManualCron('data-retention')).toBe(true);
    expect(isManualCron('outbox-sweep')).toBe(false);
    expect(isManualCron('constructor')).toBe(false);
  });
});
