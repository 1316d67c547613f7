import { CreateInitialSchema1795480841726 } from './1795480841726-create-initial-schema';
import { CreateSyncSeenSubscribers1795600000000 } from './1795600000000-create-sync-seen-subscribers';
import { AddSyncRunPasses1795700000000 } from './1795700000000-add-sync-run-passes';
import { AddCronRunLeases1795800000000 } from './1795800000000-add-cron-run-leases';
import { AddJobRunDelayed1795900000000 } from './1795900000000-add-job-run-delayed';

/** Every migration, in order (listed, not globbed, so dist and tests load the same set). */
export const MIGRATIONS = [
  CreateInitialSchema1795480841726,
  CreateSyncSeenSubscribers1795600000000,
  AddSyncRunPasses1795700000000,
  AddCronRunLeases1795800000000,
  AddJobRunDelayed1795900000000,
];
