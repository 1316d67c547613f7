import { Module } from '@nestjs/common';
import { OutboxRelayService, QUEUE, registerQueues } from '@subscribernest/shared';
import { DomainEventsProcessor } from './domain-events.processor';
import { OutboxEventRepository } from './outbox-event.repository';
import { OutboxSweepScheduler } from './outbox-sweep.scheduler';

/**
 * Events in: the `domain-events` consumer that re-emits each event in-process, and the outbox
 * sweeper that publishes to the same queue (registered once, as consumer and producer) what the
 * api's fast path missed.
 */
@Module({
  imports: [registerQueues(QUEUE.domainEvents)],
  providers: [
    DomainEventsProcessor,
    OutboxEventRepository,
    OutboxRelayService,
    OutboxSweepScheduler,
  ],
})
export class EventsModule {}
