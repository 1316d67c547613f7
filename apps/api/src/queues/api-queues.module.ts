import { Global, Module } from '@nestjs/common';
import { registerQueues } from '@subscribernest/shared';
import { PRODUCED_QUEUES, QueueProducerService } from './queue-producer.service';

/** The BullMQ queues the api produces to, behind QueueProducerService (global). */
@Global()
@Module({
  imports: [registerQueues(...PRODUCED_QUEUES)],
  providers: [QueueProducerService],
  exports: [QueueProducerService],
})
export class ApiQueuesModule {}
