import { Module } from '@nestjs/common';
import { EspModule, SyncLifecycleModule } from '@subscribernest/shared';
import { OpsModule } from '../ops/ops.module';
import { SubscriberSyncProcessor } from './subscriber-sync.processor';
import { SubscriberSyncService } from './subscriber-sync.service';
import { SyncBatchBuilder } from './sync-batches';
import { SyncJobEndings } from './sync-job-endings';
import { SyncMetrics } from './sync-metrics';
import { SyncRequestedListener } from './sync-requested.listener';
import { SyncRunReaperScheduler } from './sync-run-reaper.scheduler';

/**
 * Subscriber sync: `SyncRequestedEvent` → `sync-publication` job (the producer side), and
 * SubscriberSyncProcessor, which runs those jobs (so the start-up handler check covers the queue),
 * and what ends runs their jobs no longer drive (SyncJobEndings, SyncRunReaperScheduler).
 */
@Module({
  imports: [EspModule, OpsModule, SyncLifecycleModule],
  providers: [
    SyncRequestedListener,
    SubscriberSyncProcessor,
    SubscriberSyncService,
    SyncBatchBuilder,
    SyncJobEndings,
    SyncMetrics,
    SyncRunReaperScheduler,
  ],
})
export class SyncModule {}
