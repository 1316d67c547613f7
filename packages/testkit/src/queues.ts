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
 * see each other's jobs, and cleanup never touches anyone else's keys. On a Redis Cluster
 * (`redis+cluster://` REDIS_URL) the prefix is a hash tag (`{sn-test-…}`), as QUEUE_PREFIX must be
 * there, and cleanup scans each seed node.
 */
export function createTestQueuePrefix(redisUrl = testRedisUrl()): TestQueuePrefix {
  const name = `sn-test-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const seeds = clusterSeedUrls(redisUrl);
  const prefix = seeds ? `{${name}}` : name;
  return {
    prefix,
    cleanup: async () => {
      for (const url of seeds ?? [redisUrl]) {
        const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
        try {
          await redis.connect();
          let cursor = '0';
          do {
            const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
            cursor = next;
            if (keys.length > 0) await redis.unlink(...keys);
          } while (cursor !== '0');
        } catch (error) {
          // A cluster node may be gone (a test killed it); its keys went with it.
          if (!seeds) throw error;
        } finally {
          redis.disconnect();
        }
      }
    },
  };
}

/** `redis://host:port` of each seed node of a `redis+cluster://` URL; undefined for one server. */
function clusterSeedUrls(redisUrl: string): string[] | undefined {
  const match = /^rediss?\+cluster:\/\/(?:[^@]*@)?([^/?#]+)\/?$/.exec(redisUrl);
  return match?.[1].split(',').map((node) => `redis://${node.trim()}`);
}

export function testRedisUrl(): string {
  return process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}
