import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { RedisClient } from '../../redis/redis-client';
import { RateLimitedError } from '../esp-errors';
import { budgetKey } from './budget-key';
import {
  CONCURRENCY_TAKE,
  LEASE_RELEASE,
  ROLLING_WINDOW_ANSWERED,
  ROLLING_WINDOW_TAKE,
  VENDOR_WINDOW_REPORT,
  VENDOR_WINDOW_TAKE,
} from './budget-scripts';
import {
  budgetPolicy,
  ESP_BUDGET_DEFAULTS,
  EspBudgetPolicy,
  EspBudgetSettings,
  reserveFor,
  reserveShare,
} from './esp-budget-settings';
import {
  EspBudgetClaim,
  EspBudgetGrant,
  EspBudgetObserver,
  EspRateBudget,
  NO_BUDGET_GRANT,
} from './esp-rate-budget';
import { readVendorWindow } from './rate-limit-headers';

/** How often a call waiting for a Mailchimp slot asks again: a release frees one at any moment. */
const SLOT_POLL_MS = 25;
/** Retry-After of a call that found no slot within the wait bound: slots free up in seconds. */
const SLOT_RETRY_AFTER_MS = { min: 1_000, max: 5_000 };
/**
 * Longest one budget command may take. A slower answer (a busy Redis, a stalled event loop) is
 * asked again while the wait bound allows, then the call goes without a budget.
 */
export const BUDGET_REDIS_TIMEOUT_MS = 2_000;
/** Pause before asking a slow Redis again. */
const SLOW_REDIS_RETRY_MS = 50;
/** A Redis problem is logged at most this often. */
const FAIL_OPEN_LOG_INTERVAL_MS = 30_000;

export interface BudgetLogger {
  warn(message: string): void;
}

export interface RedisEspRateBudgetOptions {
  /** Connected by the caller's module (`connect`) and closed with `close`. */
  redis: RedisClient;
  /** The deployment's QUEUE_PREFIX: budgets of test runs sharing a Redis never meet. */
  prefix: string;
  settings: EspBudgetSettings;
  /**
   * How long a Mailchimp slot (or a beehiiv in-flight mark) outlives a process that died while
   * holding it. Longer than any request can last: the request timeout plus a margin.
   */
  leaseMs: number;
  observer?: EspBudgetObserver;
  logger?: BudgetLogger;
  /** Tests: a recording sleep. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Per-credential ESP budgets in Redis, shared by every process that uses the same Redis and
 * QUEUE_PREFIX (api replicas, workers): beehiiv by its own RateLimit-* headers, Kit by a rolling
 * window per key, Mailchimp by a semaphore of leases (esp-budget-settings.ts, budget-scripts.ts).
 *
 * It fails open: while Redis is unavailable (or a command takes longer than
 * BUDGET_REDIS_TIMEOUT_MS) a call goes without a budget, as before budgets existed, and 429s are
 * handled as they always were (EspHttpClient). A cache outage never stops syncs or live calls.
 */
export class RedisEspRateBudget implements EspRateBudget {
  private readonly redis: RedisClient;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly maxWaitMs: number;
  private readonly scripts = new Map<string, string>();
  private lastFailOpenLog = 0;

  constructor(private readonly options: RedisEspRateBudgetOptions) {
    this.redis = options.redis;
    this.sleep = options.sleep ?? ((ms) => delay(ms));
    this.maxWaitMs =
      options.settings.ESP_BUDGET_MAX_WAIT_MS ?? ESP_BUDGET_DEFAULTS.ESP_BUDGET_MAX_WAIT_MS;
  }

  async acquire(claim: EspBudgetClaim): Promise<EspBudgetGrant> {
    const policy = budgetPolicy(claim.esp, claim.kind, this.options.settings);
    const key = budgetKey(this.options.prefix, claim.esp, claim.kind, claim.credential);
    const lease = randomUUID();
    const started = Date.now();
    for (;;) {
      let wait: number;
      if (this.redis.status !== 'ready') {
        this.failOpen(`Redis connection is ${this.redis.status}`);
        return NO_BUDGET_GRANT;
      }
      try {
        wait = await this.take(policy, key, lease, claim);
      } catch (error) {
        // Connected but slow: ask again (the same lease is never counted twice) while the bound
        // allows; past it, or with the connection gone, go without a budget.
        if (this.redis.status === 'ready' && Date.now() - started < this.maxWaitMs) {
          await this.sleep(SLOW_REDIS_RETRY_MS);
          continue;
        }
        this.failOpen((error as Error).message);
        return NO_BUDGET_GRANT;
      }
      const elapsed = Date.now() - started;
      if (wait === 0) {
        if (elapsed > 0) this.options.observer?.onWait(claim.esp, elapsed);
        return this.grant(policy, key, lease);
      }
      // A slot can free up at any moment (poll); a window frees up at a known time (sleep to it).
      const pause = policy.kind === 'concurrency' ? Math.min(wait, SLOT_POLL_MS) : wait;
      if (elapsed + pause > this.maxWaitMs) throw this.deferred(claim, policy, wait);
      await this.sleep(pause);
    }
  }

  /** Connects, giving up (not failing) after `timeoutMs`: the budget then fails open. */
  async connect(timeoutMs = 2_000): Promise<void> {
    if (this.redis.status !== 'wait') return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.redis.connect().catch(() => undefined),
      new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis.disconnect());
    else this.redis.disconnect();
  }

  private take(
    policy: EspBudgetPolicy,
    key: string,
    lease: string,
    claim: EspBudgetClaim,
  ): Promise<number> {
    switch (policy.kind) {
      case 'rolling-window': {
        const allowed = policy.requests - reserveFor(claim.priority, policy.requests);
        return this.run(
          ROLLING_WINDOW_TAKE,
          [key],
          [
            Math.max(1, allowed),
            policy.windowMs + rollingMargin(policy.windowMs),
            lease,
            this.options.leaseMs,
          ],
        );
      }
      case 'concurrency': {
        const allowed = policy.slots - reserveFor(claim.priority, policy.slots);
        return this.run(
          CONCURRENCY_TAKE,
          [key],
          [Math.max(1, allowed), this.options.leaseMs, lease],
        );
      }
      case 'vendor-window':
        return this.run(VENDOR_WINDOW_TAKE, vendorWindowKeys(key), [
          reserveShare(claim.priority),
          policy.requests,
          policy.windowMs,
          this.options.leaseMs,
          lease,
          resetMargin(policy.windowMs),
        ]);
    }
  }

  private grant(policy: EspBudgetPolicy, key: string, lease: string): EspBudgetGrant {
    return {
      release: async (headers) => {
        try {
          if (policy.kind === 'rolling-window') {
            await this.run(ROLLING_WINDOW_ANSWERED, [key], [lease]);
            return;
          }
          if (policy.kind === 'concurrency') {
            await this.run(LEASE_RELEASE, [key], [lease]);
            return;
          }
          const window = headers ? readVendorWindow(headers, Date.now()) : null;
          await this.run(VENDOR_WINDOW_REPORT, vendorWindowKeys(key), [
            lease,
            window ? '1' : '0',
            window?.remaining ?? 0,
            window?.resetAtMs ?? 0,
            window?.limit ?? 0,
          ]);
        } catch (error) {
          // The lease expires by itself; the next answer's headers update the window.
          this.failOpen((error as Error).message);
        }
      },
    };
  }

  private deferred(claim: EspBudgetClaim, policy: EspBudgetPolicy, wait: number): Error {
    const retryAfterMs =
      policy.kind === 'concurrency'
        ? Math.min(SLOT_RETRY_AFTER_MS.max, Math.max(SLOT_RETRY_AFTER_MS.min, wait))
        : wait;
    this.options.observer?.onDeferred?.(claim.esp, retryAfterMs);
    const what =
      policy.kind === 'concurrency'
        ? `all ${policy.slots} request slots of this account are taken`
        : `the request budget of this ${claim.kind === 'oauth' ? 'token' : 'key'} is used up`;
    return new RateLimitedError(
      claim.esp,
      `${what} for another ${retryAfterMs} ms (longer than the ${this.maxWaitMs} ms a call waits)`,
      retryAfterMs,
    );
  }

  /** EVALSHA, loading the script on first use (or after a Redis restart forgot it). */
  private async run(script: string, keys: string[], args: (string | number)[]): Promise<number> {
    let sha = this.scripts.get(script);
    if (!sha) {
      sha = createHash('sha1').update(script).digest('hex');
      this.scripts.set(script, sha);
    }
    try {
      return Number(await this.redis.evalsha(sha, keys.length, ...keys, ...args));
    } catch (error) {
      if (!String((error as Error).message).includes('NOSCRIPT')) throw error;
      return Number(await this.redis.eval(script, keys.length, ...keys, ...args));
    }
  }

  private failOpen(reason: string): void {
    const now = Date.now();
    if (now - this.lastFailOpenLog < FAIL_OPEN_LOG_INTERVAL_MS) return;
    this.lastFailOpenLog = now;
    this.options.logger?.warn(
      `ESP request budgets unavailable (${reason}): calls go without a budget until Redis answers`,
    );
  }
}

/** The state hash and the in-flight leases (one Redis Cluster slot: budgetKey's hash tag). */
function vendorWindowKeys(key: string): string[] {
  return [`${key}:window`, `${key}:in-flight`];
}

/**
 * Sends are scored by their answer, which the vendor's count precedes; the margin covers the
 * clocks of Redis and the vendor differing a little. A second at Kit's 60 s.
 */
function rollingMargin(windowMs: number): number {
  return Math.min(1_000, Math.ceil(windowMs / 20));
}

/** After a vendor's Reset: our Redis clock and the vendor's may differ by a little. */
function resetMargin(windowMs: number): number {
  return Math.min(1_000, Math.max(50, Math.ceil(windowMs / 10)));
}
