import { Module } from '@nestjs/common';
import { OutboxRelayService } from '@subscribernest/shared';
import { DomainEventsProcessor } from './domain-events.processor';
import { OutboxEventRepository } from './outbox-event.repository';
import { OutboxSweepScheduler } from './outbox-sweep.scheduler';

/**
 * Events in: the `domain-events` consumer that re-emits each event in-process, and the outbox
 * sweeper that publishes to the same queue (through JobProducer) what the api's fast path missed.
 */
@Module({
  providers: [
    DomainEventsProcessor,
    OutboxEventRepository,
    OutboxRelayService,
    OutboxSweepScheduler,
  ],
})
export class EventsModule {}
