import { getQueueToken } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';
import { Queue } from 'bullmq';
import { RedisErrorLog } from '../redis/redis-error-log';
import { JOB_QUEUES, JobProducer } from './job-producer';
import { QUEUE_NAMES } from './queue-names';
import { registerQueues } from './queue.module';

/**
 * Every queue of the shared contract, opened once per process (global), with JobProducer and the
 * process's RedisErrorLog. `@InjectQueue(name)` keeps working for the few readers that need a
 * queue itself (Bull Board). Import once, next to `queueRootModule`.
 */
@Module({})
export class JobQueuesModule {
  static forRoot(): DynamicModule {
    const queues = registerQueues(...QUEUE_NAMES);
    return {
      module: JobQueuesModule,
      global: true,
      imports: [queues],
      providers: [
        { provide: RedisErrorLog, useValue: new RedisErrorLog() },
        {
          provide: JOB_QUEUES,
          inject: QUEUE_NAMES.map((name) => getQueueToken(name)),
          useFactory: (...all: Queue[]) => all,
        },
        JobProducer,
      ],
      exports: [queues, RedisErrorLog, JobProducer],
    };
  }
}
