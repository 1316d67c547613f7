import { isIP } from 'node:net';
import { Transform, Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateBy,
  ValidateIf,
} from 'class-validator';
import { BILLING_PRICE_DEFAULTS, BillingPriceSettings } from '../billing/pricing';
import { ESP_BUDGET_DEFAULTS, EspBudgetSettings } from '../esp/budget/esp-budget-settings';
import { ESP_HTTP_DEFAULTS, EspSettings } from '../esp/esp-client.registry';
import {
  IsEncryptionKeyList,
  IsGraceDays,
  IsHashTaggedOnCluster,
  IsNamedEncryptionKey,
  IsPort,
  IsRedisUrl,
  IsSecretKey,
  IsListenHost,
  isHttpsUrl,
  IsServiceUrl,
  IsTlsInProduction,
  isTlsSmtpUrl,
} from './env-validators';

export const NODE_ENVS = ['development', 'test', 'production'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const trimmed = () =>
  Transform(({ value }) => (typeof value === 'string' ? value.trim() : value), {
    toClassOnly: true,
  });

/** Variables both services read. */
export class SharedEnv implements EspSettings, EspBudgetSettings, BillingPriceSettings {
  @IsIn(NODE_ENVS)
  NODE_ENV: NodeEnv = 'development';

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  /**
   * The address the api's HTTP port and the worker's ops port listen on: `0.0.0.0` (every
   * interface, what a container needs), or `127.0.0.1` to keep a dev machine's ports private.
   */
  @trimmed()
  @IsListenHost()
  HOST = '0.0.0.0';

  /**
   * Days between an account deletion request and the deletion; 1-365. Shared: the api tells the
   * owner the date, the worker's account-deletion cron deletes on it.
   */
  @trimmed()
  @IsGraceDays()
  ACCOUNT_DELETION_GRACE_DAYS = '30';

  @trimmed()
  @IsServiceUrl(['postgres:', 'postgresql:'])
  DATABASE_URL: string;

  /**
   * Most Postgres connections one process keeps in its pool (the api's export downloads have a
   * pool of their own on top, EXPORT_MAX_CONCURRENT). Postgres must allow the sum over every
   * replica of every service (`max_connections`, 100 by default).
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  DATABASE_POOL_SIZE = 10;

  /**
   * One Redis server (`redis://`, `rediss://` for TLS), or a Redis Cluster named by some of its
   * nodes: `redis+cluster://[user:password@]host:port,host:port[,…]` (`rediss+cluster://` for
   * TLS). A cluster needs a hash-tagged QUEUE_PREFIX.
   */
  @trimmed()
  @IsRedisUrl()
  REDIS_URL: string;

  /**
   * Key prefix of every key we write (BullMQ's queues, throttler counters, ESP budgets): separates
   * deployments (and test runs) sharing one Redis. On a Redis Cluster it must be a hash tag such
   * as `{sn}`, so that every key of a queue lies in one slot (BullMQ's scripts touch many keys).
   */
  @Matches(/^[A-Za-z0-9_{}-]{1,64}$/, {
    message: 'QUEUE_PREFIX must be 1-64 letters, digits, _, - or a {hash tag}',
  })
  @IsHashTaggedOnCluster()
  QUEUE_PREFIX = 'sn';

  /** Attempts a sync job gets (a malformed page, a 5xx, a dropped connection each use one). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(20)
  SYNC_JOB_ATTEMPTS = 5;

  /** First retry delay of a failed sync attempt; doubles each time (BullMQ exponential backoff). */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  SYNC_JOB_BACKOFF_MS = 30_000;

  /** The key that encrypts new values: `<key id>:<base64 of 32 bytes>`. */
  @trimmed()
  @IsNamedEncryptionKey()
  ENCRYPTION_KEY: string;

  /** Retired keys still accepted for decryption, comma-separated `<key id>:<base64>`. */
  @trimmed()
  @IsOptional()
  @IsEncryptionKeyList()
  ENCRYPTION_PREVIOUS_KEYS = '';

  /** Key for the email HMAC used for lookups; changing it invalidates every stored HMAC. */
  @trimmed()
  @IsSecretKey()
  HMAC_KEY: string;

  /** beehiiv API v2 base URL; tests, the demo and benchmarks point it at the fake ESP. */
  @trimmed()
  @IsServiceUrl(['https:', 'http:'])
  @IsTlsInProduction(isHttpsUrl, 'must be an https:// URL in production')
  BEEHIIV_API_URL = 'https://api.beehiiv.com/v2';

  /** Kit API v4 base URL. */
  @trimmed()
  @IsServiceUrl(['https:', 'http:'])
  @IsTlsInProduction(isHttpsUrl, 'must be an https:// URL in production')
  KIT_API_URL = 'https://api.kit.com/v4';

  /** Mailchimp Marketing API 3.0 base URL; `{dc}` becomes each key's data centre (`…-us6`). */
  @trimmed()
  @IsServiceUrl(['https:', 'http:'])
  @IsTlsInProduction(isHttpsUrl, 'must be an https:// URL in production')
  MAILCHIMP_API_URL = 'https://{dc}.api.mailchimp.com/3.0';

  /** Limit on one ESP request (connect, headers and body), per attempt. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  ESP_REQUEST_TIMEOUT_MS: number = ESP_HTTP_DEFAULTS.ESP_REQUEST_TIMEOUT_MS;

  /** Retries of one ESP request after network errors, timeouts, 5xx and short 429s. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(10)
  ESP_MAX_RETRIES: number = ESP_HTTP_DEFAULTS.ESP_MAX_RETRIES;

  /** The longest ESP 429 wait slept in-process; longer ones reschedule the job instead. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  ESP_MAX_INLINE_WAIT_MS: number = ESP_HTTP_DEFAULTS.ESP_MAX_INLINE_WAIT_MS;

  /*
   * Per-credential ESP request budgets, shared by every api and worker process through Redis
   * (keys under `<QUEUE_PREFIX>:esp-budget:`, each credential by a hash only). Defaults are the
   * vendors' documented limits; raise them for an account with a larger quota.
   */

  /**
   * beehiiv requests assumed per window until its RateLimit-* headers say how many are left
   * (documented: 180 per minute per organization).
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  ESP_BUDGET_BEEHIIV_REQUESTS: number = ESP_BUDGET_DEFAULTS.ESP_BUDGET_BEEHIIV_REQUESTS;

  @Type(() => Number)
  @IsInt()
  @Min(100)
  ESP_BUDGET_BEEHIIV_WINDOW_MS: number = ESP_BUDGET_DEFAULTS.ESP_BUDGET_BEEHIIV_WINDOW_MS;

  /** Kit requests per rolling ESP_BUDGET_KIT_WINDOW_MS per API key (documented: 120 per 60 s). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  ESP_BUDGET_KIT_API_KEY_REQUESTS: number = ESP_BUDGET_DEFAULTS.ESP_BUDGET_KIT_API_KEY_REQUESTS;

  /** Kit requests per rolling window per OAuth token (documented: 600 per 60 s). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  ESP_BUDGET_KIT_OAUTH_REQUESTS: number = ESP_BUDGET_DEFAULTS.ESP_BUDGET_KIT_OAUTH_REQUESTS;

  @Type(() => Number)
  @IsInt()
  @Min(100)
  ESP_BUDGET_KIT_WINDOW_MS: number = ESP_BUDGET_DEFAULTS.ESP_BUDGET_KIT_WINDOW_MS;

  /** Mailchimp requests in flight per account (documented: 10 simultaneous connections). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  ESP_BUDGET_MAILCHIMP_IN_FLIGHT: number = ESP_BUDGET_DEFAULTS.ESP_BUDGET_MAILCHIMP_IN_FLIGHT;

  /**
   * The longest an ESP call waits in-process for its budget. A longer wait is a rate limit: a
   * sync job is delayed until the budget frees up (not a failed attempt), the api answers 429.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  ESP_BUDGET_MAX_WAIT_MS: number = ESP_BUDGET_DEFAULTS.ESP_BUDGET_MAX_WAIT_MS;

  /**
   * Stripe's secret (or restricted) API key. Unset: billing is disabled on this server (self-hosted,
   * demo, tests): every user counts as subscribed and closed months are recorded `not_invoiced`.
   */
  @trimmed()
  @ValidateIf((env: SharedEnv) => env.STRIPE_SECRET_KEY !== '')
  @Matches(/^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/, {
    message: 'STRIPE_SECRET_KEY must be a Stripe secret key (sk_live_…, sk_test_… or rk_…)',
  })
  STRIPE_SECRET_KEY = '';

  /** Stripe's API; tests and the demo point it at the fake Stripe in packages/testkit. */
  @trimmed()
  @IsServiceUrl(['https:', 'http:'])
  @IsTlsInProduction(isHttpsUrl, 'must be an https:// URL in production')
  STRIPE_API_URL = 'https://api.stripe.com';

  /**
   * The `event_name` of the Stripe Billing Meter the monthly billing reports to. Each month's
   * event carries the month's price in cents as its value; the meter sums them and the price on
   * it is $0.01 per unit, so the pricing lives here (BILLING_*), in one place.
   */
  @trimmed()
  @Matches(/^[A-Za-z0-9_.:-]{1,100}$/, {
    message: 'STRIPE_METER_EVENT_NAME must be 1-100 letters, digits, _ . : or -',
  })
  STRIPE_METER_EVENT_NAME = 'subscribernest_usage_cents';

  /** Price of a month with 1 to BILLING_INCLUDED_SUBSCRIBERS subscribers, in cents. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(10_000_000)
  BILLING_BASE_PRICE_CENTS: number = BILLING_PRICE_DEFAULTS.BILLING_BASE_PRICE_CENTS;

  /** Subscribers the base price covers. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000_000)
  BILLING_INCLUDED_SUBSCRIBERS: number = BILLING_PRICE_DEFAULTS.BILLING_INCLUDED_SUBSCRIBERS;

  /** What each further block of BILLING_STEP_SUBSCRIBERS (or part of one) adds, in cents. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(10_000_000)
  BILLING_STEP_PRICE_CENTS: number = BILLING_PRICE_DEFAULTS.BILLING_STEP_PRICE_CENTS;

  /** Subscribers in one priced block above the included ones. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000_000)
  BILLING_STEP_SUBSCRIBERS: number = BILLING_PRICE_DEFAULTS.BILLING_STEP_SUBSCRIBERS;
}

/**
 * What TRUST_PROXY becomes: Express's `trust proxy` setting. `false` (the default) ignores
 * X-Forwarded-For; a number trusts that many hops in front of the api; a list trusts the proxies
 * at those addresses/subnets (`loopback`, `linklocal` and `uniquelocal` stand for their ranges).
 */
export type TrustProxySetting = boolean | number | string[];

const TRUST_PROXY_RANGES = ['loopback', 'linklocal', 'uniquelocal'];
const TRUST_PROXY_MAX_HOPS = 10;

function isProxyAddress(entry: string): boolean {
  if (TRUST_PROXY_RANGES.includes(entry)) return true;
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * TRUST_PROXY as Express wants it: `true`/`false`, a hop count (0-10), or a comma-separated list
 * of IP addresses, CIDR subnets and named ranges. Throws with the reason otherwise (Express would
 * take any other string for an address list and fail on the first request, or trust nothing).
 */
export function parseTrustProxy(raw: string): TrustProxySetting {
  const value = raw.trim().toLowerCase();
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > TRUST_PROXY_MAX_HOPS) {
      throw new Error(`hop count ${hops} is more than ${TRUST_PROXY_MAX_HOPS}`);
    }
    return hops;
  }
  const entries = value.split(',').map((entry) => entry.trim());
  const bad = entries.find((entry) => !isProxyAddress(entry));
  if (bad !== undefined) throw new Error(`"${bad}" is not an IP address, subnet or named range`);
  return entries;
}

/** TRUST_PROXY still a string after the transform: parseTrustProxy refused it. */
const IsTrustProxy = () =>
  ValidateBy({
    name: 'isTrustProxy',
    validator: {
      validate: (value: unknown) => typeof value !== 'string',
      defaultMessage: (args) => {
        let reason = 'is invalid';
        try {
          parseTrustProxy(String(args?.value ?? ''));
        } catch (error) {
          reason = (error as Error).message;
        }
        return (
          `${args?.property} must be true, false, a hop count (0-${TRUST_PROXY_MAX_HOPS}) or a ` +
          `comma-separated list of proxy IP addresses/subnets (${reason})`
        );
      },
    },
  });

/** A drain time (JOB_ / HTTP_DRAIN_TIMEOUT_MS), when set, must leave time before the watchdog fires. */
const IsBelowShutdownTimeout = () =>
  ValidateBy({
    name: 'isBelowShutdownTimeout',
    validator: {
      validate: (value: unknown, args) => {
        const limit = (args?.object as { SHUTDOWN_TIMEOUT_MS?: unknown }).SHUTDOWN_TIMEOUT_MS;
        return typeof value === 'number' && typeof limit === 'number' && value < limit;
      },
      defaultMessage: (args) => `${args?.property} must be less than SHUTDOWN_TIMEOUT_MS`,
    },
  });

/** Variables the api reads (plus the shared ones). */
export class ApiEnv extends SharedEnv {
  @Type(() => Number)
  @IsPort()
  PORT = 4000;

  /** Comma-separated browser origins allowed by CORS. */
  @IsString()
  CORS_ORIGINS = 'http://localhost:3000';

  /** How long SIGTERM waits for in-flight requests before the process exits anyway. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  SHUTDOWN_TIMEOUT_MS = 10_000;

  /**
   * How long SIGTERM lets in-flight requests (a large export download) finish after the api stops
   * accepting connections; idle keep-alive sockets are closed at once. A download still running
   * then is cut off (the connection is destroyed, so the client sees an incomplete transfer, never
   * a file that looks whole). Unset: 80% of SHUTDOWN_TIMEOUT_MS. When set, it must be less than
   * SHUTDOWN_TIMEOUT_MS.
   */
  @Type(() => Number)
  @IsOptional()
  @IsInt()
  @Min(0)
  @IsBelowShutdownTimeout()
  HTTP_DRAIN_TIMEOUT_MS: number | undefined = undefined;

  /**
   * Which proxies in front of the api to believe about the client's address (X-Forwarded-For):
   * per-IP throttling and the IP of sign-in notifications read it. Off by default, because a
   * client reaching the api directly could otherwise pick any address. Behind one load balancer,
   * `1`; see parseTrustProxy for the accepted forms.
   */
  @Transform(
    ({ value }) => {
      if (typeof value !== 'string') return value;
      try {
        return parseTrustProxy(value);
      } catch {
        return value;
      }
    },
    { toClassOnly: true },
  )
  @IsTrustProxy()
  TRUST_PROXY: TrustProxySetting = false;

  /**
   * Export downloads one api process streams at once, and the size of the small Postgres pool
   * they get to themselves (each holds one connection for as long as its client takes to read):
   * however many downloads run or stall, the pool of DATABASE_POOL_SIZE that every other route
   * uses is never theirs. One more answers 429 with Retry-After.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  EXPORT_MAX_CONCURRENT = 4;

  /** Export downloads one user may run at once on one api process; one more answers 429. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  EXPORT_MAX_PER_USER = 2;

  /**
   * How long an export download may wait on a client that takes nothing from its socket before
   * it is cut off (the connection reset: an incomplete transfer, never a file that looks whole)
   * and its database connection and export slot are freed. A slow reader that keeps taking data
   * is never cut.
   */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  EXPORT_IDLE_TIMEOUT_MS = 30_000;
  /**
   * The signing secret of the Stripe webhook endpoint (`whsec_…`) that POST /billing/webhook
   * verifies every delivery with. Required when STRIPE_SECRET_KEY is set.
   */
  @trimmed()
  @ValidateIf((env: ApiEnv) => env.STRIPE_SECRET_KEY !== '')
  @Matches(/^whsec_[A-Za-z0-9_]+$/, {
    message: 'STRIPE_WEBHOOK_SECRET must be a Stripe webhook signing secret (whsec_…)',
  })
  STRIPE_WEBHOOK_SECRET = '';

  /**
   * The Stripe price checkout subscribes to: a metered price on the STRIPE_METER_EVENT_NAME meter
   * at $0.01 per unit. Required when STRIPE_SECRET_KEY is set.
   */
  @trimmed()
  @ValidateIf((env: ApiEnv) => env.STRIPE_SECRET_KEY !== '')
  @Matches(/^price_[A-Za-z0-9_]+$/, {
    message: 'STRIPE_PRICE_ID must be a Stripe price id (price_…)',
  })
  STRIPE_PRICE_ID = '';

  /**
   * The frontend's billing page: Stripe Checkout returns there (with `?session_id=…`, which the
   * page hands to POST /billing/verify-checkout-session), and so does the customer portal.
   */
  @trimmed()
  @IsServiceUrl(['https:', 'http:'])
  BILLING_RETURN_URL = 'http://localhost:3000/settings/billing';
}

/** Variables the worker reads (plus the shared ones). */
export class WorkerEnv extends SharedEnv {
  /** The ops listener: `/health` and `/metrics` only. */
  @Type(() => Number)
  @IsPort()
  OPS_PORT = 4100;

  /**
   * How long SIGTERM lets active jobs finish before the process exits anyway. Keep it below the
   * container's stop grace period (docker-compose `stop_grace_period`).
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  SHUTDOWN_TIMEOUT_MS = 25_000;

  /**
   * How long SIGTERM lets active jobs run on before asking those that can stop early (a subscriber
   * sync, between two pages) to hand their job back to the queue, so the process still exits 0
   * within SHUTDOWN_TIMEOUT_MS and another worker resumes the job at once. Unset: 80% of
   * SHUTDOWN_TIMEOUT_MS. When set, it must be less than SHUTDOWN_TIMEOUT_MS.
   */
  @Type(() => Number)
  @IsOptional()
  @IsInt()
  @Min(0)
  @IsBelowShutdownTimeout()
  JOB_DRAIN_TIMEOUT_MS: number | undefined = undefined;

  /**
   * How long a worker's lock on an active job lasts; the worker renews it every half of that. A job
   * whose worker died (SIGKILL, OOM, a lost host) is handed to another worker by the stalled-job
   * check once its lock has expired. Default: BullMQ's (30 s). Shorter recovers faster, but an
   * event loop blocked longer than this makes a live job look stalled.
   */
  @Type(() => Number)
  @IsInt()
  @Min(500)
  @Max(3_600_000)
  QUEUE_LOCK_DURATION_MS = 30_000;

  /** How often each worker runs BullMQ's stalled-job check. Default: BullMQ's (30 s). */
  @Type(() => Number)
  @IsInt()
  @Min(500)
  @Max(3_600_000)
  QUEUE_STALLED_INTERVAL_MS = 30_000;

  /**
   * How many times a job may stall (its worker died or stopped renewing the lock) and be handed on
   * before BullMQ fails it for good. A failed sync job's run is then failed too, saying why, and
   * its connection released (SyncJobEndingsListener).
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(100)
  QUEUE_MAX_STALLED_COUNT = 2;

  /**
   * Jobs of the `domain-events` queue one worker process runs at once. Each only re-emits an
   * event and enqueues follow-up jobs, so a higher number mostly waits on Redis and Postgres.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  DOMAIN_EVENTS_CONCURRENCY = 10;

  /**
   * How often the outbox sweeper looks for events the api could not publish (Redis or the api
   * down right after the commit). Rows younger than a couple of seconds are left to the api.
   */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  OUTBOX_SWEEP_INTERVAL_MS = 5_000;

  /**
   * How often the worker samples the gauges whose source is Redis or Postgres (queue depths, the
   * outbox backlog, each cron's last tick): a scrape then costs nothing, however many jobs wait.
   */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  METRICS_SAMPLE_INTERVAL_MS = 15_000;

  /**
   * Where the `email` queue sends mail (`smtps://user:pass@host:465`,
   * `smtp://user:pass@host:587?requireTLS=true`). Required in production, and encrypted there
   * (isTlsSmtpUrl); elsewhere any `smtp://` works and, when unset, messages are written as `.eml`
   * files to EMAIL_OUTBOX_DIR.
   */
  @trimmed()
  @ValidateIf((env: WorkerEnv) => env.NODE_ENV === 'production' || env.SMTP_URL !== undefined)
  @IsServiceUrl(['smtp:', 'smtps:'])
  @IsTlsInProduction(
    isTlsSmtpUrl,
    'must use TLS in production: smtps://…, or smtp://…?requireTLS=true (STARTTLS required), ' +
      'with certificate checks on',
  )
  SMTP_URL: string | undefined = undefined;

  /** The From header of every email the worker sends. */
  @IsString()
  EMAIL_FROM = 'SubscriberNest <no-reply@subscribernest.local>';

  /** Where `.eml` files go when SMTP_URL is unset (development and tests only). */
  @IsString()
  EMAIL_OUTBOX_DIR = 'var/mail';

  /** Jobs of the `email` queue one worker process runs at once. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  EMAIL_CONCURRENCY = 5;

  /**
   * Jobs of the `subscriber-sync` queue one worker process runs at once. Each streams one ESP and
   * uses one database connection at a time for its page transactions.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(50)
  SYNC_CONCURRENCY = 2;

  /**
   * The longest a sync run may run, from its first pass; past it the reaper fails the run (its
   * pass stops at its next page) and releases the connection. Default 6 hours.
   */
  @Type(() => Number)
  @IsInt()
  @Min(60_000)
  @Max(7 * 24 * 3_600_000)
  SYNC_MAX_RUN_DURATION_MS = 6 * 3_600_000;

  /**
   * The longest a sync run may wait on ESP rate limits (429s) in total; past it the run fails
   * saying so instead of staying `running` behind a vendor that never lets it in. Default 1 hour.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  @Max(7 * 24 * 3_600_000)
  SYNC_MAX_RATE_LIMIT_WAIT_MS = 3_600_000;

  /**
   * Days between full passes of a connection whose ESP can list what changed (Mailchimp, Kit):
   * the syncs in between fetch only the subscribers changed since the last complete pass, and
   * only a full pass removes subscribers gone from the ESP. The first sync is always full; 0
   * makes every sync full. beehiiv has no change filter: its syncs are always full.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(365)
  SYNC_FULL_PASS_EVERY_DAYS = 7;

  /**
   * Subscribers a sync writes per transaction: consecutive ESP pages are gathered until they
   * hold at least this many (whole pages), then stored with one checkpoint. Larger batches cost
   * fewer round trips; a crash re-fetches at most about two batches. Default 2,000.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(20_000)
  SYNC_WRITE_BATCH_ROWS = 2_000;

  /** How often the sync reaper looks for unfinished runs that no live job drives. */
  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  @Max(3_600_000)
  SYNC_REAPER_INTERVAL_MS = 60_000;

  /**
   * How long an unfinished run may go without a page write before the reaper checks its job; a
   * run whose job is gone, failed or completed is then failed, saying why.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  @Max(24 * 3_600_000)
  SYNC_STALE_AFTER_MS = 10 * 60_000;

  /**
   * Whether this worker fires the crons (midnight sync, …) and catches up a tick missed while no
   * worker ran. Every replica may keep it on: the `cron_runs` claim runs each tick once. `false`
   * leaves a replica to its queues (manual ticks from the admin route still run), and keeps a test
   * that seeds data before the worker starts from seeing a catch-up tick act on it.
   */
  @IsIn(['true', 'false'])
  CRONS_ENABLED: 'true' | 'false' = 'true';

  /**
   * How long a claimed cron tick stays owned without a heartbeat (the owner renews it every third
   * of this while the tick runs). A tick whose worker died is claimed again once it lapses.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  @Max(3_600_000)
  CRON_LEASE_MS = 60_000;

  /** Attempts a cron tick gets (the first included) before it waits for an admin's re-run. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(20)
  CRON_MAX_ATTEMPTS = 3;

  /** How long after a failed attempt a cron tick is run again. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(24 * 3_600_000)
  CRON_RETRY_DELAY_MS = 5 * 60_000;

  /**
   * How often a worker (with CRONS_ENABLED) looks for ticks to run again: failed ones and ones
   * whose lease lapsed. It also looks once at start-up.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  @Max(3_600_000)
  CRON_RECOVERY_INTERVAL_MS = 60_000;

  /** Manual cron ticks (`scheduler-ticks` queue) one worker process runs at once. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10)
  SCHEDULER_TICKS_CONCURRENCY = 1;

  /**
   * Data retention (the `data-retention` cron, daily at 03:30 UTC): how many days each table keeps
   * its rows once they are final. Login codes (the requester's IP included) by creation; expired
   * or revoked sessions after their expiry or revocation; outbox events after publication;
   * completed, failed and dead job_runs after their last update; completed and failed cron_runs
   * after they finished (each cron's newest tick always stays: it is the catch-up record); admin
   * actions by creation (the audit trail: a year by default).
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(365)
  RETENTION_LOGIN_CODES_DAYS = 7;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(365)
  RETENTION_SESSIONS_DAYS = 30;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(365)
  RETENTION_OUTBOX_DAYS = 7;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3650)
  RETENTION_JOB_RUNS_DAYS = 30;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3650)
  RETENTION_CRON_RUNS_DAYS = 90;

  @Type(() => Number)
  @IsInt()
  @Min(30)
  @Max(3650)
  RETENTION_ADMIN_ACTIONS_DAYS = 365;

  /** Days the Stripe webhook's replay ledger keeps an applied event (30-3650). */
  @Type(() => Number)
  @IsInt()
  @Min(30)
  @Max(3650)
  RETENTION_STRIPE_EVENTS_DAYS = 90;

  /** Rows one retention statement deletes (or clears) at most, so no statement runs long. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(50_000)
  RETENTION_BATCH_SIZE = 5_000;

  /**
   * Rows one account-deletion statement deletes at most (subscribers, seen ids, sync runs, …),
   * each batch its own short transaction, so a million-row account never holds a long lock.
   */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(50_000)
  ACCOUNT_DELETION_BATCH_SIZE = 5_000;

  /** `delete-account` jobs one worker process runs at once. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10)
  DELETE_ACCOUNT_CONCURRENCY = 1;

  /** `close-period` jobs (one user's month, reported to Stripe) one worker process runs at once. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(50)
  CLOSE_PERIOD_CONCURRENCY = 5;
}
