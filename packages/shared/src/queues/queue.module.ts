import { BullModule } from '@nestjs/bullmq';
import { DynamicModule } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { producerRedisOptions, workerRedisOptions } from '../redis/redis-options';
import { DEFAULT_JOB_OPTIONS } from './job-options';
import { QueueName } from './queue-names';

type QueueSettings = { REDIS_URL: string; QUEUE_PREFIX: string };

/**
 * BullMQ root connection. `role` picks the connection behaviour: the api only produces, the
 * worker consumes (see redis-options.ts).
 */
export function queueRootModule(role: 'producer' | 'worker'): DynamicModule {
  return BullModule.forRootAsync({
    inject: [ConfigService],
    useFactory: (config: ConfigService<QueueSettings, true>) => {
      const url = config.get('REDIS_URL', { infer: true });
      return {
        connection: role === 'worker' ? workerRedisOptions(url) : producerRedisOptions(url),
        prefix: config.get('QUEUE_PREFIX', { infer: true }),
      };
    },
  });
}

/** Registers queues with their shared default job options (attempts, backoff, retention). */
export function registerQueues(...names: QueueName[]): DynamicModule {
  return BullModule.registerQueue(
    ...names.map((name) => ({ name, defaultJobOptions: DEFAULT_JOB_OPTIONS[name] })),
  );
}
