import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, ValidateIf } from 'class-validator';
import { ESP_HTTP_DEFAULTS, EspSettings } from '../esp/esp-client.registry';
import {
  IsEncryptionKeyList,
  IsGraceDays,
  IsNamedEncryptionKey,
  IsPort,
  IsSecretKey,
  IsServiceUrl,
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
export class SharedEnv implements EspSettings {
  @IsIn(NODE_ENVS)
  NODE_ENV: NodeEnv = 'development';

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  @trimmed()
  @IsServiceUrl(['postgres:', 'postgresql:'])
  DATABASE_URL: string;

  @trimmed()
  @IsServiceUrl(['redis:', 'rediss:'])
  REDIS_URL: string;

  /** BullMQ key prefix: separates deployments (and test runs) sharing one Redis. */
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, {
    message: 'QUEUE_PREFIX must be 1-64 letters, digits, _ or -',
  })
  QUEUE_PREFIX = 'sn';

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
  BEEHIIV_API_URL = 'https://api.beehiiv.com/v2';

  /** Kit API v4 base URL. */
  @trimmed()
  @IsServiceUrl(['https:', 'http:'])
  KIT_API_URL = 'https://api.kit.com/v4';

  /** Mailchimp Marketing API 3.0 base URL; `{dc}` becomes each key's data centre (`…-us6`). */
  @trimmed()
  @IsServiceUrl(['https:', 'http:'])
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
}

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

  /** Days between an account deletion request and the deletion; 1-365. */
  @trimmed()
  @IsGraceDays()
  ACCOUNT_DELETION_GRACE_DAYS = '30';
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
   * Where the `email` queue sends mail (`smtp://user:pass@host:587`, `smtps://…:465`). Required in
   * production; elsewhere, when unset, messages are written as `.eml` files to EMAIL_OUTBOX_DIR.
   */
  @trimmed()
  @ValidateIf((env: WorkerEnv) => env.NODE_ENV === 'production' || env.SMTP_URL !== undefined)
  @IsServiceUrl(['smtp:', 'smtps:'])
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
   * Jobs of the `subscriber-sync` queue one worker process runs at once. Each holds two database
   * connections (its per-connection advisory lock and its page transactions) and streams one ESP.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(50)
  SYNC_CONCURRENCY = 2;
}
