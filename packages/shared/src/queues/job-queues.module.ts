import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Queue } from 'bullmq';
import { RedisErrorLog } from '../redis/redis-error-log';
import { JOB_QUEUES, JobProducer } from './job-producer';
import { QUEUE_NAMES } from './queue-names';
import { JobSettings, jobOptionsFor } from './job-options';

/**
 * Every queue of the shared contract, opened once per process (global), with its default job
 * options from the configuration (SYNC_JOB_ATTEMPTS, SYNC_JOB_BACKOFF_MS), JobProducer and the
 * process's RedisErrorLog. `@InjectQueue(name)` keeps working for the few readers that need a
 * queue itself (Bull Board). Import once, next to `queueRootModule`.
 */
@Module({})
export class JobQueuesModule {
  static forRoot(): DynamicModule {
    const queues = BullModule.registerQueueAsync(
      ...QUEUE_NAMES.map((name) => ({
        name,
        inject: [ConfigService],
        useFactory: (config: ConfigService<JobSettings, true>) => ({
          defaultJobOptions: jobOptionsFor({
            SYNC_JOB_ATTEMPTS: config.get('SYNC_JOB_ATTEMPTS', { infer: true }),
            SYNC_JOB_BACKOFF_MS: config.get('SYNC_JOB_BACKOFF_MS', { infer: true }),
          })[name],
        }),
      })),
    );
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
      exports: [queues, RedisErrorLog, JobProducer, JOB_QUEUES],
    };
  }
}
