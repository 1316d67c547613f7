import { ConfigService } from '@nestjs/config';
import { HealthIndicatorService } from '@nestjs/terminus';
import { testRedisUrl } from '@subscribernest/testkit';
import { RedisHealthIndicator } from './redis.health';

const indicatorFor = (url: string) =>
  new RedisHealthIndicator(
    new HealthIndicatorService(),
    new ConfigService<{ REDIS_URL: string }, true>({ REDIS_URL: url }),
  );

describe('RedisHealthIndicator (real Redis)', () => {
  it('reports a Redis that is up as up to checks that arrive together before it connected', async () => {
    const indicator = indicatorFor(testRedisUrl());
    try {
      // The first checks of a fresh process, e.g. a load balancer probing several times at once.
      const results = await Promise.all(
        Array.from({ length: 8 }, () => indicator.isHealthy('redis')),
      );
      expect(results).toEqual(Array.from({ length: 8 }, () => ({ redis: { status: 'up' } })));
      await expect(indicator.isHealthy('redis')).resolves.toEqual({ redis: { status: 'up' } });
    } finally {
      await indicator.onModuleDestroy();
    }
  });

  it('reports an unreachable Redis as down, saying why', async () => {
    const indicator = indicatorFor('redis://127.0.0.1:1');
    try {
      const [first, second] = await Promise.all([
        indicator.isHealthy('redis'),
        indicator.isHealthy('redis'),
      ]);
      for (const result of [first, second]) {
        expect(result.redis.status).toBe('down');
        expect(result.redis.message).toEqual(expect.any(String));
      }
    } finally {
      await indicator.onModuleDestroy();
    }
  });
});
