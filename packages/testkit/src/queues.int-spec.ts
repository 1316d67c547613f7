import Redis from 'ioredis';
import { createTestQueuePrefix, testRedisUrl } from './queues';

describe('createTestQueuePrefix (real Redis)', () => {
  it('gives each run its own prefix and cleans up only its own keys', async () => {
    const mine = createTestQueuePrefix();
    const theirs = createTestQueuePrefix();
    expect(mine.prefix).not.toBe(theirs.prefix);

    const redis = new Redis(testRedisUrl());
    try {
      await redis.set(`${mine.prefix}:email:1`, 'x');
      await redis.set(`${theirs.prefix}:email:1`, 'y');
      await mine.cleanup();
      expect(await redis.exists(`${mine.prefix}:email:1`)).toBe(0);
      expect(await redis.get(`${theirs.prefix}:email:1`)).toBe('y');
      await theirs.cleanup();
    } finally {
      redis.disconnect();
    }
  });
});
