import type { EspChangeFilter, SyncPlan } from '@subscribernest/shared';

const DAY_MS = 86_400_000;

export interface SyncPlanInput {
  /** The ESP client's change filter; null when the vendor has none (beehiiv). */
  changeFilter: EspChangeFilter | null;
  /** The ESP's clock at the start of the connection's last complete pass; null: never synced. */
  watermark: Date | null;
  /** When the connection's last complete full pass finished; null: never. */
  lastFullSyncAt: Date | null;
  /** SYNC_FULL_PASS_EVERY_DAYS: 0 makes every pass a full one. */
  fullPassEveryDays: number;
  now: Date;
}

/**
 * Full or incremental, for a run's first pass. Incremental only when the vendor can filter by
 * change, a pass has completed before (its watermark says from when to ask), and the last full
 * pass is recent: only a full pass learns which subscribers left the ESP (an incremental one
 * never sees them), so one is due every `fullPassEveryDays`.
 */
export function planSync(input: SyncPlanInput): SyncPlan {
  if (input.changeFilter === null || input.watermark === null || input.fullPassEveryDays === 0) {
    return { mode: 'full' };
  }
  if (input.lastFullSyncAt === null) return { mode: 'full' };
  const due = input.lastFullSyncAt.getTime() + input.fullPassEveryDays * DAY_MS;
  if (input.now.getTime() >= due) return { mode: 'full' };
  return { mode: 'incremental', changedSince: input.watermark };
}
