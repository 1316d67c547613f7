import { CreateInitialSchema1795480841726 } from './1795480841726-create-initial-schema';
import { CreateSyncSeenSubscribers1795600000000 } from './1795600000000-create-sync-seen-subscribers';
import { AddSyncRunPasses1795700000000 } from './1795700000000-add-sync-run-passes';
import { AddCronRunLeases1795800000000 } from './1795800000000-add-cron-run-leases';
import { AddJobRunDelayed1795900000000 } from './1795900000000-add-job-run-delayed';
import { AddLoginCodeCiphertext1796000000000 } from './1796000000000-add-login-code-ciphertext';
import { CreateAdminActions1796100000000 } from './1796100000000-create-admin-actions';
import { AddRetentionIndexes1796200000000 } from './1796200000000-add-retention-indexes';
import { AddSnapshotConnection1796300000000 } from './1796300000000-add-snapshot-connection';
import { AddUserDeletionStarted1796400000000 } from './1796400000000-add-user-deletion-started';
import { AddStripeBilling1796500000000 } from './1796500000000-add-stripe-billing';
import { AddSyncRunSkippedRows1796600000000 } from './1796600000000-add-sync-run-skipped-rows';
import { AddCorrelationIds1796650000000 } from './1796650000000-add-correlation-ids';
import { AddIncrementalSync1796700000000 } from './1796700000000-add-incremental-sync';
import { CreateSubscriberCounts1796800000000 } from './1796800000000-create-subscriber-counts';
import { UnloggedSyncSeenSet1796900000000 } from './1796900000000-unlogged-sync-seen-set';
import { AddSubscriberContentHash1797000000000 } from './1797000000000-add-subscriber-content-hash';
import { TimeOrderedSubscriberIds1797300000000 } from './1797300000000-time-ordered-subscriber-ids';
import { AddMeterEventAt1797400000000 } from './1797400000000-add-meter-event-at';
import { AddSeenSetSkipped1797500000000 } from './1797500000000-add-seen-set-skipped';
import { FanOutWritePath1797600000000 } from './1797600000000-fan-out-write-path';
import { CreateSyncSeenBatches1797700000000 } from './1797700000000-create-sync-seen-batches';

/** Every migration, in order (listed, not globbed, so dist and tests load the same set). */
export const MIGRATIONS = [
  CreateInitialSchema1795480841726,
  CreateSyncSeenSubscribers1795600000000,
  AddSyncRunPasses1795700000000,
  AddCronRunLeases1795800000000,
  AddJobRunDelayed1795900000000,
  AddLoginCodeCiphertext1796000000000,
  CreateAdminActions1796100000000,
  AddRetentionIndexes1796200000000,
  AddSnapshotConnection1796300000000,
  AddUserDeletionStarted1796400000000,
  AddStripeBilling1796500000000,
  AddSyncRunSkippedRows1796600000000,
  AddCorrelationIds1796650000000,
  AddIncrementalSync1796700000000,
  CreateSubscriberCounts1796800000000,
  UnloggedSyncSeenSet1796900000000,
  AddSubscriberContentHash1797000000000,
  TimeOrderedSubscriberIds1797300000000,
  AddMeterEventAt1797400000000,
  AddSeenSetSkipped1797500000000,
  FanOutWritePath1797600000000,
  CreateSyncSeenBatches1797700000000,
];
