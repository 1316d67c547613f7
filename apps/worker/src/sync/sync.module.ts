import { Module } from '@nestjs/common';
import { QUEUE, registerQueues } from '@subscribernest/shared';
import { SyncRequestedListener } from './sync-requested.listener';

/**
 * Subscriber sync. For now only the producer side: `SyncRequestedEvent` → `sync-publication` job.
 * The `subscriber-sync` queue is registered as a producer only; its processor
 * (SubscriberSyncProcessor) comes with the sync itself, and until then this worker takes no job from
 * that queue, so the start-up handler check does not cover it.
 */
@Module({
  imports: [registerQueues(QUEUE.subscriberSync)],
  providers: [SyncRequestedListener],
})
export class SyncModule {}
