import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HealthIndicatorService } from '@nestjs/terminus';
import Redis from 'ioredis';
import { redisOptionsFromUrl } from '../redis/redis-options';

const PING_TIMEOUT_MS = 2_000;

/** Terminus indicator: Redis answers PING within a short timeout. */
@Injectable()
export class RedisHealthIndicator implements OnModuleDestroy {
  private readonly client: Redis;

  constructor(
    private readonly indicator: HealthIndicatorService,
    config: ConfigService<{ REDIS_URL: string }, true>,
  ) {
    this.client = new Redis({
      ...redisOptionsFromUrl(config.get('REDIS_URL', { infer: true })),
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: PING_TIMEOUT_MS,
      retryStrategy: () => 1_000,
    });
    // Errors surface through `isHealthy`; without a listener ioredis would log them itself.
    this.client.on('error', () => undefined);
  }

  async isHealthy(key: string) {
    const check = this.indicator.check(key);
    try {
      if (this.client.status === 'wait' || this.client.status === 'end')
        await this.client.connect();
      const reply = await Promise.race([
        this.client.ping(),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('PING timed out')), PING_TIMEOUT_MS).unref(),
        ),
      ]);
      return reply === 'PONG'
        ? check.up()
        : check.down({ message: `unexpected reply ${String(reply)}` });
    } catch (error) {
      return check.down({ message: (error as Error).message });
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.client.disconnect();
  }
}
