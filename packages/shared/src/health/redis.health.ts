import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Cluster } from 'ioredis';
import { createRedisClient, RedisClient } from '../redis/redis-client';

const PING_TIMEOUT_MS = 2_000;

/**
 * Terminus indicator: Redis answers PING within a short timeout. On a cluster the question is
 * whether the node that holds our keys' slot (the hash-tagged QUEUE_PREFIX) answers, not any
 * node: a keyed read goes there (following MOVED after a failover), where a PING would go to any.
 */
@Injectable()
export class RedisHealthIndicator implements OnModuleDestroy {
  private readonly client: RedisClient;
  /** The key a cluster check reads (never written): it lies in the queues' slot. */
  private readonly probeKey: string;
  /** The first connect, shared by every check that arrives while it is under way. */
  private connecting?: Promise<void>;

  constructor(
    private readonly indicator: HealthIndicatorService,
    config: ConfigService<{ REDIS_URL: string; QUEUE_PREFIX: string }, true>,
  ) {
    this.probeKey = `${config.get('QUEUE_PREFIX', { infer: true }) ?? 'sn'}:health`;
    this.client = createRedisClient(config.get('REDIS_URL', { infer: true }), 'probe', {
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
      await this.connected();
      const reply = await Promise.race([
        this.client instanceof Cluster
          ? this.client.exists(this.probeKey).then(() => 'PONG')
          : this.client.ping(),
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

  /**
   * Connects the lazy client once. Checks that arrive while it connects wait for the same
   * attempt: without the offline queue, a PING sent meanwhile would fail ("Stream isn't
   * writeable") and report a Redis that is up as down.
   */
  private connected(): Promise<void> {
    if (this.client.status === 'wait' || this.client.status === 'end') {
      this.connecting = this.client.connect().finally(() => {
        this.connecting = undefined;
      });
    }
    return this.connecting ?? Promise.resolve();
  }

  async onModuleDestroy(): Promise<void> {
    this.client.disconnect();
  }
}
