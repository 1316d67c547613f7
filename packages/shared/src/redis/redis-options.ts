import { RedisOptions } from 'ioredis';

/** ioredis options from a `redis://` or `rediss://` URL (user, password, db, TLS). */
export function redisOptionsFromUrl(url: string): RedisOptions {
  const parsed = new URL(url);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: Number.isInteger(db) ? db : 0,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
  };
}

/** Reconnect forever with capped exponential backoff: a Redis restart must never end a service. */
export function reconnectBackoff(times: number): number {
  return Math.min(250 * 2 ** Math.min(times, 7), 10_000);
}

/**
 * Connection for BullMQ workers: `maxRetriesPerRequest: null` keeps blocking commands waiting
 * through a failover instead of erroring out (a worker otherwise stops for good while its process
 * looks alive).
 */
export function workerRedisOptions(url: string): RedisOptions {
  return {
    ...redisOptionsFromUrl(url),
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: reconnectBackoff,
  };
}

/**
 * Connection for producers in request paths: with Redis down, commands fail at once instead of
 * queueing in memory, so a request can fall back (the outbox keeps the event) and answer quickly.
 */
export function producerRedisOptions(url: string): RedisOptions {
  return {
    ...redisOptionsFromUrl(url),
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: reconnectBackoff,
  };
}
