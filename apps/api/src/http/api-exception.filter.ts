import { STATUS_CODES } from 'node:http';
import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { DecryptionError, QueueUnavailableError } from '@subscribernest/shared';
import { QueryFailedError } from 'typeorm';
import { TooManyRequestsException } from './too-many-requests.exception';

export interface ErrorAnswer {
  status: number;
  body: { statusCode: number; message: string | string[]; error: string } & Record<string, unknown>;
  headers: Record<string, string>;
}

interface ReplyTarget {
  headersSent: boolean;
  setHeader(name: string, value: string): unknown;
  destroy(): unknown;
}

function answer(status: number, message: string | string[]): ErrorAnswer {
  return {
    status,
    body: { statusCode: status, message, error: STATUS_CODES[status] ?? 'Error' },
    headers: {},
  };
}

/** A 503 that tells the client when to try again. */
function unavailable(message: string, retryAfterSeconds: number): ErrorAnswer {
  const result = answer(HttpStatus.SERVICE_UNAVAILABLE, message);
  result.headers['Retry-After'] = String(retryAfterSeconds);
  return result;
}

/** Errors such as body-parser's (`http-errors`): a 4xx status with a message safe to show. */
function isExposedClientError(error: unknown): error is { status: number; message: string } {
  if (!(error instanceof Error)) return false;
  const { status, expose } = error as Error & { status?: unknown; expose?: unknown };
  return typeof status === 'number' && status >= 400 && status < 500 && expose === true;
}

/** Postgres SQLSTATE of a failed query (`22P02`...), when there is one. */
function sqlState(error: QueryFailedError): string | undefined {
  const code = (error.driverError as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** How long a client should wait before retrying while the database is unavailable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;
/** `Retry-After` of a 503 for an unreachable Redis: reconnects are tried every few seconds. */
export const QUEUE_RETRY_AFTER_SECONDS = 5;

/** SQLSTATEs that mean "the database cannot serve this now", not "this request is wrong". */
const UNAVAILABLE_CODES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '40001',
  '40P01',
  // Socket errors of a connection that could not be made or was cut.
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
]);
/** Errors node-postgres and its pool raise, without a code, when a connection dies. */
const CONNECTION_FAILURES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Client has encountered a connection error/i,
];

/**
 * A dropped or refused Postgres connection (a terminated backend, a restart, a full pool), a
 * deadlock or a serialization failure: the request itself was fine and may simply be retried.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const driver = error instanceof QueryFailedError ? (error.driverError as unknown) : error;
  const code = (driver as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && (code.startsWith('08') || UNAVAILABLE_CODES.has(code))) {
    return true;
  }
  const message = driver instanceof Error ? driver.message : error.message;
  return CONNECTION_FAILURES.some((pattern) => pattern.test(message));
}

/**
 * What the API answers for anything thrown, without leaking internals: HTTP exceptions as they
 * are; bad input that got as far as Postgres (a data exception) as 400; an unexpected conflict as
 * 409; a dropped database connection, deadlock or serialization failure, or a job queue (Redis)
 * that cannot take a job in time, as 503 with `Retry-After`; everything else as a bare 500, logged with its stack — but never with query
 * parameters or driver details, which may hold addresses or codes.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(ApiExceptionFilter.name);

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<ReplyTarget>();
    const request = http.getRequest<{ method?: string; url?: string }>();
    const result = this.describe(exception, `${request.method} ${request.url}`);

    if (response.headersSent) {
      // A stream was cut off mid-way: the status is gone, so end the connection as a signal.
      response.destroy();
      return;
    }
    for (const [name, value] of Object.entries(result.headers)) response.setHeader(name, value);
    this.adapterHost.httpAdapter.reply(response, result.body, result.status);
  }

  describe(exception: unknown, route = ''): ErrorAnswer {
    if (exception instanceof HttpException) return this.fromHttpException(exception, route);

    if (exception instanceof QueryFailedError) {
      const state = sqlState(exception);
      if (state?.startsWith('22')) {
        this.logger.warn({ msg: 'Query rejected its input', route, sqlState: state });
        return answer(HttpStatus.BAD_REQUEST, 'Invalid input');
      }
      if (state === '23505') {
        this.logger.warn({ msg: 'Unique constraint conflict', route, sqlState: state });
        return answer(HttpStatus.CONFLICT, 'This conflicts with an existing record');
      }
    }

    if (isExposedClientError(exception)) return answer(exception.status, exception.message);

    if (isDatabaseUnavailable(exception)) {
      this.logger.warn({
        msg: 'Database unavailable',
        route,
        err: { type: (exception as Error).name, message: (exception as Error).message },
      });
      return unavailable(
        'The database is briefly unavailable; try again shortly',
        DATABASE_RETRY_AFTER_SECONDS,
      );
    }

    if (exception instanceof QueueUnavailableError) {
      this.logger.warn({
        msg: 'Job queue unavailable',
        route,
        queue: exception.queue,
        reason: exception.message,
      });
      return unavailable(
        'The job queue (Redis) is unavailable; try again later',
        QUEUE_RETRY_AFTER_SECONDS,
      );
    }

    if (exception instanceof DecryptionError) {
      // Stored ciphertext the configured keys cannot open: an operator problem (a key rotated
      // away without keeping the old one in ENCRYPTION_PREVIOUS_KEYS), never the caller's.
      this.logger.error({
        msg: 'Stored secret cannot be decrypted',
        route,
        reason: exception.message,
      });
      return answer(
        HttpStatus.INTERNAL_SERVER_ERROR,
        'A stored secret cannot be decrypted with the configured keys; the operators have been alerted',
      );
    }

    this.logUnexpected(exception, route);
    return answer(HttpStatus.INTERNAL_SERVER_ERROR, 'Internal server error');
  }

  private fromHttpException(exception: HttpException, route: string): ErrorAnswer {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const result =
      typeof response === 'string'
        ? answer(status, response)
        : {
            status,
            body: { ...answer(status, exception.message).body, ...response },
            headers: {},
          };
    if (exception instanceof TooManyRequestsException) {
      result.headers['Retry-After'] = String(exception.retryAfterSeconds);
    }
    if (status === (HttpStatus.UNAUTHORIZED as number)) {
      result.headers['WWW-Authenticate'] = 'Bearer';
    }
    if (status >= 500) {
      this.logger.error({ msg: 'Request failed', route, status, err: safeError(exception) });
    }
    return result;
  }

  private logUnexpected(exception: unknown, route: string): void {
    this.logger.error({ msg: 'Unhandled error', route, err: safeError(exception) });
  }
}

/**
 * Name, message and stack only. Driver errors carry the query's parameters and Postgres's
 * `detail` (`Key (email)=(…) already exists`): those must not reach a log line.
 */
export function safeError(error: unknown): { type: string; message: string; stack?: string } {
  if (error instanceof Error) {
    const state = error instanceof QueryFailedError ? sqlState(error) : undefined;
    return {
      type: error.name,
      message: state ? `${error.message} (SQLSTATE ${state})` : error.message,
      stack: error.stack,
    };
  }
  return { type: typeof error, message: 'non-error value thrown' };
}
