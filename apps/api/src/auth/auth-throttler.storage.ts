import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { ApiEnv, createRedisClient, RedisClient, RedisErrorLog } from '@subscribernest/shared';
import { Cluster } from 'ioredis';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** Longest a throttle check waits for Redis before the replica counts in memory instead. */
export const THROTTLER_REDIS_TIMEOUT_MS = 500;
/** How long start-up waits for the first connection (Redis down must not stop the api). */
const FIRST_CONNECTION_WAIT_MS = 2_000;

/** Where the counters live: under the deployment's (or test run's) QUEUE_PREFIX. */
export function throttlerKeyPrefix(queuePrefix: string): string {
  return `${queuePrefix}:throttler:`;
}

/**
 * Storage of the auth routes' rate limits (@nestjs/throttler), shared by every api replica in
 * Redis (REDIS_URL, one server or a cluster, keys under `<QUEUE_PREFIX>:throttler:`: on a cluster
 * the prefix's hash tag keeps each counter's two keys in one slot), so a limit means the same with
 * one replica or ten.
 *
 * When Redis is unavailable it FAILS OPEN, onto this replica's memory, with a warning log: the
 * limit still holds per replica, but nobody is refused sign-in because of a cache outage. Why not
 * a 503: these counters are defence in depth, not the guard itself. The per-address code limit
 * and the 5-attempts-per-code lock live in Postgres and still hold, and six-digit codes cannot be
 * guessed within 5 attempts; whereas answering 503 would lock every user out of their account
 * (and the worker's email queue, the other Redis user, already has a 503 of its own on
 * send-code). Blocking is never the cost of a Redis problem: commands fail at once while
 * disconnected (no offline queue) and give up after THROTTLER_REDIS_TIMEOUT_MS when Redis hangs.
 */
@Injectable()
export class AuthThrottlerStorage implements ThrottlerStorage, OnModuleInit, OnApplicationShutdown {
  private readonly redis: RedisClient;
  private readonly shared: ThrottlerStorageRedisService;
  private readonly local = new ThrottlerStorageService();
  /** Since when checks have fallen back to memory; null while Redis answers. */
  private degradedSince: number | null = null;
  private closed = false;

  constructor(
    config: ConfigService<ApiEnv, true>,
    errors: RedisErrorLog,
    @InjectPinoLogger(AuthThrottlerStorage.name) private readonly logger: PinoLogger,
  ) {
    this.redis = createRedisClient(config.get('REDIS_URL', { infer: true }), 'producer', {
      keyPrefix: throttlerKeyPrefix(config.get('QUEUE_PREFIX', { infer: true })),
      commandTimeout: THROTTLER_REDIS_TIMEOUT_MS,
      connectionName: 'api-throttler',
      lazyConnect: true,
    });
    // Without a listener ioredis prints every connection error to stderr, outside the JSON logs.
    this.redis.on('error', errors.listener('auth rate limits'));
    // The storage takes a server or a cluster (two constructor overloads, one behaviour).
    this.shared =
      this.redis instanceof Cluster
        ? new ThrottlerStorageRedisService(this.redis)
        : new ThrottlerStorageRedisService(this.redis);
  }

  /** Connects before the api takes requests, giving up (not failing) when Redis is down. */
  async onModuleInit(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.redis.connect().catch(() => undefined),
      new Promise((resolve) => (timer = setTimeout(resolve, FIRST_CONNECTION_WAIT_MS))),
    ]);
    clearTimeout(timer);
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    if (this.redis.status === 'ready') {
      try {
        const record = await this.shared.increment(key, ttl, limit, blockDuration, throttlerName);
        this.recovered();
        return record;
      } catch (error) {
        this.degraded((error as Error).message);
      }
    } else {
      this.degraded(`Redis connection is ${this.redis.status}`);
    }
    return this.local.increment(key, ttl, limit, blockDuration, throttlerName);
  }

  /** After the HTTP server has closed: no request needs the client any more. */
  async onApplicationShutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.local.onApplicationShutdown();
    if (this.redis.status === 'ready') {
      await this.redis.quit().catch(() => this.redis.disconnect());
    } else {
      this.redis.disconnect();
    }
  }

  private degraded(reason: string): void {
    if (this.degradedSince !== null) return;
    this.degradedSince = Date.now();
    this.logger.warn(
      { reason },
      "Auth rate limits fall back to this replica's memory: Redis is unavailable",
    );
  }

  private recovered(): void {
    if (this.degradedSince === null) return;
    const degradedMs = Date.now() - this.degradedSince;
    this.degradedSince = null;
    this.logger.info({ degradedMs }, 'Auth rate limits are shared in Redis again');
  }
}
