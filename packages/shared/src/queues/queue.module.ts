import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DEFAULT_JOB_OPTIONS } from './job-options';
import { QueueConnections } from './queue-connections';
import { QueueName } from './queue-names';

type QueueSettings = { REDIS_URL: string; QUEUE_PREFIX: string };

@Module({ providers: [QueueConnections], exports: [QueueConnections] })
class QueueConnectionsModule {}

/**
 * BullMQ root connection, one server or a cluster (REDIS_URL, through QueueConnections). `role`
 * picks the connection behaviour: the api only produces, the worker consumes (see
 * redis-options.ts).
 */
export function queueRootModule(role: 'producer' | 'worker'): DynamicModule {
  return BullModule.forRootAsync({
    imports: [QueueConnectionsModule],
    inject: [ConfigService, QueueConnections],
    useFactory: (config: ConfigService<QueueSettings, true>, connections: QueueConnections) => {
      const url = config.get('REDIS_URL', { infer: true });
      return {
        connection: connections.connection(url, role),
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
