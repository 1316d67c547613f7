import Redis from 'ioredis';
import { testRedisUrl } from './queues';

/**
 * Forgets every ESP request budget under `queuePrefix` (keys `<prefix>:esp-budget:*`): what a
 * test does after injecting a 429 whose RateLimit-Reset lies far ahead, instead of waiting for
 * the window the budget now (rightly) honours.
 */
export async function clearEspBudgets(
  queuePrefix: string,
  redisUrl = testRedisUrl(),
): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(
        cursor,
        'MATCH',
        `${queuePrefix}:esp-budget:*`,
        'COUNT',
        1000,
      );
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
