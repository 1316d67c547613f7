import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Min } from 'class-validator';
import {
  IsEncryptionKeyList,
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
export class SharedEnv {
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
}
