import { testSecrets } from './keys';
import { testRedisUrl } from './queues';

export interface ServiceEnvOptions {
  databaseUrl: string;
  queuePrefix: string;
  redisUrl?: string;
  /** Anything else to set or override (PORT, OPS_PORT, LOG_LEVEL...). */
  extra?: Record<string, string>;
}

/** The environment a service under test runs with: its own database, queue prefix and keys. */
export function serviceEnv(options: ServiceEnvOptions): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: options.redisUrl ?? testRedisUrl(),
    QUEUE_PREFIX: options.queuePrefix,
    // A worker started on data a test seeded first would run last midnight's catch-up tick on it;
    // the specs about crons turn them on.
    CRONS_ENABLED: 'false',
    ...testSecrets(),
    ...options.extra,
  };
}
