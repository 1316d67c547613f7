import type { EspType } from '../entities/esp-connection.entity';

export const ESP_ERROR_CODES = [
  'invalid_credentials',
  'not_found',
  'rate_limited',
  'transient',
  'protocol',
  'invalid_cursor',
] as const;
export type EspErrorCode = (typeof ESP_ERROR_CODES)[number];

/**
 * Everything an ESP client throws on purpose. `code` is stable (store it, branch on it);
 * `message` is for people and never contains an API key, an auth header or a query string.
 * Only `retryable` errors are worth another attempt: `RateLimitedError` after `retryAfterMs`,
 * `TransientError` with the caller's own backoff.
 */
export abstract class EspError extends Error {
  abstract readonly code: EspErrorCode;
  abstract readonly retryable: boolean;
  readonly espType: EspType;
  /** The HTTP status that caused it, when there was one. */
  readonly status: number | undefined;

  protected constructor(espType: EspType, message: string, status?: number) {
    super(`${espType}: ${message}`);
    this.espType = espType;
    this.status = status;
  }
}

/** 401/403, or a key that cannot be sent at all (wrong format). The connection is `invalid`. */
export class InvalidCredentialsError extends EspError {
  override readonly name = 'InvalidCredentialsError';
  readonly code = 'invalid_credentials';
  readonly retryable = false;

  constructor(espType: EspType, message: string, status?: number) {
    super(espType, message, status);
  }
}

/** 404: the publication/list id does not exist or this key cannot see it. */
export class NotFoundError extends EspError {
  override readonly name = 'NotFoundError';
  readonly code = 'not_found';
  readonly retryable = false;

  constructor(espType: EspType, message: string, status?: number) {
    super(espType, message, status);
  }
}

/** 429 whose wait is longer than we sleep in-process (or that outlasted the retries). */
export class RateLimitedError extends EspError {
  override readonly name = 'RateLimitedError';
  readonly code = 'rate_limited';
  readonly retryable = true;
  /** How long to wait before asking again (from Retry-After / RateLimit-Reset when given). */
  readonly retryAfterMs: number;

  constructor(espType: EspType, message: string, retryAfterMs: number, status = 429) {
    super(espType, message, status);
    this.retryAfterMs = retryAfterMs;
  }
}

/** 5xx, timeouts and network failures that outlasted the bounded retries. */
export class TransientError extends EspError {
  override readonly name = 'TransientError';
  readonly code = 'transient';
  readonly retryable = true;

  constructor(espType: EspType, message: string, status?: number) {
    super(espType, message, status);
  }
}

/** The ESP answered something we do not understand: invalid JSON, a missing field, a 400/422. */
export class ProtocolError extends EspError {
  override readonly name = 'ProtocolError';
  readonly code = 'protocol';
  readonly retryable = false;

  constructor(espType: EspType, message: string, status?: number) {
    super(espType, message, status);
  }
}

/** A saved cursor that is not ours, not this ESP's, or belongs to another list: start over. */
export class InvalidCursorError extends EspError {
  override readonly name = 'InvalidCursorError';
  readonly code = 'invalid_cursor';
  readonly retryable = false;

  constructor(espType: EspType, message: string) {
    super(espType, message);
  }
}
