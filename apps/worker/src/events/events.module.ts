import { Module } from '@nestjs/common';
import { QUEUE, registerQueues } from '@subscribernest/shared';
import { DomainEventsProcessor } from './domain-events.processor';

/** Events in: the `domain-events` consumer that re-emits each event in-process. */
@Module({
  imports: [registerQueues(QUEUE.domainEvents)],
  providers: [DomainEventsProcessor],
})
export class EventsModule {}
