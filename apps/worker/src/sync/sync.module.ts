import { Module } from '@nestjs/common';
import { EspModule, QUEUE, registerQueues } from '@subscribernest/shared';
import { OpsModule } from '../ops/ops.module';
import { SubscriberSyncProcessor } from './subscriber-sync.processor';
import { SubscriberSyncRepository } from './subscriber-sync.repository';
import { SubscriberSyncService } from './subscriber-sync.service';
import { SyncRequestedListener } from './sync-requested.listener';

/**
 * Subscriber sync: `SyncRequestedEvent` → `sync-publication` job (the producer side), and
 * SubscriberSyncProcessor, which runs those jobs (so the start-up handler check covers the queue).
 */
@Module({
  imports: [registerQueues(QUEUE.subscriberSync), EspModule, OpsModule],
  providers: [
    SyncRequestedListener,
    SubscriberSyncProcessor,
    SubscriberSyncService,
    SubscriberSyncRepository,
  ],
})
export class SyncModule {}
