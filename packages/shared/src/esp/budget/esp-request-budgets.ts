import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createRedisClient } from '../../redis/redis-client';
import { RedisErrorLog } from '../../redis/redis-error-log';
import { EspBudgetSettings } from './esp-budget-settings';
import { EspBudgetWaitMetric } from './esp-budget-wait.metric';
import { EspBudgetObserver, EspRateBudget, UNLIMITED_BUDGET } from './esp-rate-budget';
import { BUDGET_REDIS_TIMEOUT_MS, RedisEspRateBudget } from './redis-esp-rate-budget';

/** A lease outlives the longest request by this much. */
const LEASE_MARGIN_MS = 5_000;

/**
 * The process's ESP request budgets (RedisEspRateBudget), shared with every other api and worker
 * process on the same Redis and QUEUE_PREFIX. Its own Redis connection fails fast (no offline
 * queue, BUDGET_REDIS_TIMEOUT_MS per command), so an outage makes calls go without a budget
 * rather than wait. Waits are reported to the `subscribernest_esp_budget_wait_seconds` histogram
 * and to every observer added with `observe` (tests, another metrics sink).
 */
@Injectable()
export class EspRequestBudgets implements OnModuleInit, OnApplicationShutdown {
  readonly budget: EspRateBudget;
  private readonly redisBudget: RedisEspRateBudget | null;
  private readonly observers: EspBudgetObserver[] = [new EspBudgetWaitMetric()];

  constructor(config: ConfigService) {
    const setting = (key: keyof EspBudgetSettings | 'ESP_REQUEST_TIMEOUT_MS') =>
      config.get<number>(key);
    const url = config.get<string>('REDIS_URL');
    if (!url) {
      // Only a unit test's module has no Redis: the environment schema requires REDIS_URL.
      this.redisBudget = null;
      this.budget = UNLIMITED_BUDGET;
      return;
    }
    const logger = new Logger(EspRequestBudgets.name);
    const redis = createRedisClient(url, 'producer', {
      commandTimeout: BUDGET_REDIS_TIMEOUT_MS,
      connectionName: 'esp-budgets',
      lazyConnect: true,
    });
    // Without a listener ioredis prints every connection error to stderr, outside the JSON logs.
    redis.on('error', new RedisErrorLog().listener('esp request budgets'));
    this.redisBudget = new RedisEspRateBudget({
      redis,
      prefix: config.get<string>('QUEUE_PREFIX') ?? 'sn',
      settings: {
        ESP_BUDGET_BEEHIIV_REQUESTS: setting('ESP_BUDGET_BEEHIIV_REQUESTS'),
        ESP_BUDGET_BEEHIIV_WINDOW_MS: setting('ESP_BUDGET_BEEHIIV_WINDOW_MS'),
        ESP_BUDGET_KIT_API_KEY_REQUESTS: setting('ESP_BUDGET_KIT_API_KEY_REQUESTS'),
        ESP_BUDGET_KIT_OAUTH_REQUESTS: setting('ESP_BUDGET_KIT_OAUTH_REQUESTS'),
        ESP_BUDGET_KIT_WINDOW_MS: setting('ESP_BUDGET_KIT_WINDOW_MS'),
        ESP_BUDGET_MAILCHIMP_IN_FLIGHT: setting('ESP_BUDGET_MAILCHIMP_IN_FLIGHT'),
        ESP_BUDGET_MAX_WAIT_MS: setting('ESP_BUDGET_MAX_WAIT_MS'),
      },
      leaseMs: (setting('ESP_REQUEST_TIMEOUT_MS') ?? 30_000) + LEASE_MARGIN_MS,
      observer: {
        onWait: (esp, ms) => this.observers.forEach((o) => o.onWait(esp, ms)),
        onDeferred: (esp, ms) => this.observers.forEach((o) => o.onDeferred?.(esp, ms)),
      },
      logger: { warn: (message) => logger.warn(message) },
    });
    this.budget = this.redisBudget;
  }

  /** Reports budget waits to `observer` too, from now on. */
  observe(observer: EspBudgetObserver): void {
    this.observers.push(observer);
  }

  /** Connects before the app takes work; Redis down only means calls go without a budget. */
  async onModuleInit(): Promise<void> {
    await this.redisBudget?.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redisBudget?.close();
  }
}
