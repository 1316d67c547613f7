import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';

export interface TestQueuePrefix {
  /** BullMQ key prefix unique to this run (pass as QUEUE_PREFIX). */
  prefix: string;
  /** Deletes every key under the prefix. */
  cleanup(): Promise<void>;
}

/**
 * A BullMQ key prefix of its own for one test file or run, so parallel runs sharing a Redis never
 * see each other's jobs, and cleanup never touches anyone else's keys.
 */
export function createTestQueuePrefix(redisUrl = testRedisUrl()): TestQueuePrefix {
  const prefix = `sn-test-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  return {
    prefix,
    cleanup: async () => {
      const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await redis.connect();
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await redis.unlink(...keys);
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
    },
  };
}

export function testRedisUrl(): string {
  return process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}
