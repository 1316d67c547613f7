import { Injectable, Logger } from '@nestjs/common';

/** Redis connection errors repeat on every reconnect attempt; each source logs this often at most. */
export const REDIS_ERROR_LOG_INTERVAL_MS = 30_000;

/**
 * The one log of Redis connection errors for a process (queues, BullMQ workers, the throttler's
 * client): a warning per source (a queue name, `throttler`…) at most every
 * REDIS_ERROR_LOG_INTERVAL_MS, with how many were held back since, instead of one line per
 * reconnect attempt. Without a listener ioredis would print them to stderr, outside the JSON logs.
 */
@Injectable()
export class RedisErrorLog {
  private readonly logger = new Logger('Redis');
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly intervalMs = REDIS_ERROR_LOG_INTERVAL_MS) {}

  /** An `error` listener for `source`. */
  listener(source: string): (error: Error) => void {
    return (error) => this.log(source, error);
  }

  log(source: string, error: Error): void {
    const now = Date.now();
    const seen = this.last.get(source);
    if (seen && now - seen.at < this.intervalMs) {
      seen.suppressed += 1;
      return;
    }
    this.last.set(source, { at: now, suppressed: 0 });
    this.logger.warn({
      msg: 'Redis error',
      source,
      err: { type: error.name, message: error.message },
      ...(seen?.suppressed ? { suppressedSinceLast: seen.suppressed } : {}),
    });
  }
}
