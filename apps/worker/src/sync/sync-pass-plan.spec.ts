import { planSync, SyncPlanInput } from './sync-pass-plan';

const now = new Date('2026-12-02T00:00:00Z');
const days = (n: number) => new Date(now.getTime() - n * 86_400_000);
const base: SyncPlanInput = {
  changeFilter: 'timestamp',
  watermark: days(1),
  lastFullSyncAt: days(2),
  fullPassEveryDays: 7,
  now,
};

describe('planSync', () => {
  it('is incremental from the watermark once a full pass is recent', () => {
    expect(planSync(base)).toEqual({ mode: 'incremental', changedSince: days(1) });
  });

  it('is full for the first sync, a vendor without a change filter, or a setting of 0', () => {
    expect(planSync({ ...base, watermark: null })).toEqual({ mode: 'full' });
    expect(planSync({ ...base, lastFullSyncAt: null })).toEqual({ mode: 'full' });
    expect(planSync({ ...base, changeFilter: null })).toEqual({ mode: 'full' });
    expect(planSync({ ...base, fullPassEveryDays: 0 })).toEqual({ mode: 'full' });
  });

  it('is full again once the last full pass is SYNC_FULL_PASS_EVERY_DAYS old', () => {
    expect(planSync({ ...base, lastFullSyncAt: days(6.9) }).mode).toBe('incremental');
    expect(planSync({ ...base, lastFullSyncAt: days(7) }).mode).toBe('full');
    expect(planSync({ ...base, fullPassEveryDays: 1, lastFullSyncAt: days(1) }).mode).toBe('full');
  });
});
