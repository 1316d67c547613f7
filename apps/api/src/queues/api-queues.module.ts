import { Global, Module } from '@nestjs/common';
import { registerQueues } from '@subscribernest/shared';
import { PRODUCED_QUEUES, QueueProducerService } from './queue-producer.service';

const producedQueues = registerQueues(...PRODUCED_QUEUES);

/**
 * The BullMQ queues the api produces to (global): QueueProducerService for jobs, and the queues
 * themselves for the outbox relay, which publishes to `domain-events` through the same instance.
 */
@Global()
@Module({
  imports: [producedQueues],
  providers: [QueueProducerService],
  exports: [QueueProducerService, producedQueues],
})
export class ApiQueuesModule {}
