import { TypeORMError } from 'typeorm';
import { maskEmail } from '../encryption/mask-email';

const MAX_LENGTH = 2_000;
const EMAIL = /[^\s@"'<>(),;:]+@[^\s@"'<>(),;:]+\.[A-Za-z]{2,}/g;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;

/**
 * The error text kept in `job_runs.last_error` and in logs: name and message only (never the
 * stack's locals or an error's extra properties, where drivers keep query parameters), addresses
 * masked, credentials in headers cut, bounded in length.
 */
export function describeJobError(error: unknown): string {
  return redactJobText(
    error instanceof Error
      ? `${error.name}: ${error.message}`
      : typeof error === 'string'
        ? error
        : 'Unknown error',
  );
}

/**
 * Error text made fit for Redis, the queue board and logs: addresses masked, credentials in
 * headers cut, bounded in length (an SMTP server's 550 reply, for one, names the recipient).
 */
export function redactJobText(text: string): string {
  const cleaned = text
    .replace(EMAIL, (address) => maskEmail(address))
    .replace(BEARER, (_match, scheme: string) => `${scheme} [redacted]`);
  return cleaned.length > MAX_LENGTH ? `${cleaned.slice(0, MAX_LENGTH - 1)}…` : cleaned;
}

/**
 * Errors whose text is for operators only: the database and its driver (a QueryFailedError
 * quotes the failing statement's reason, `value too long for type character varying(255)`, a
 * constraint name), the network stack, Redis, and programming errors. Their message never
 * reaches an owner (a run's error message, a job's failure shown by GET /jobs/:id): the owner
 * gets `internalErrorMessage` and the log keeps the detail under the same reference.
 */
export function isInternalError(error: unknown): boolean {
  if (!(error instanceof Error)) return true;
  if (error instanceof TypeORMError) return true;
  if (PROGRAMMING_ERRORS.has(error.name)) return true;
  const fields = error as Error & { severity?: unknown; code?: unknown; syscall?: unknown };
  // pg's DatabaseError: a severity and a five-character SQLSTATE.
  if (typeof fields.severity === 'string' && typeof fields.code === 'string') return true;
  if (typeof fields.syscall === 'string') return true;
  return INFRASTRUCTURE_MESSAGES.test(error.message);
}

const PROGRAMMING_ERRORS = new Set([
  'TypeError',
  'RangeError',
  'ReferenceError',
  'SyntaxError',
  'MaxRetriesPerRequestError',
  'ReplyError',
]);

/** What pg, its pool and ioredis say about a connection, with no class of their own to tell. */
const INFRASTRUCTURE_MESSAGES =
  /connection terminated|terminating connection|timeout exceeded when trying to connect|not queryable|connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT/i;

/** What an owner reads instead of an internal error's text. */
export function internalErrorMessage(reference: string): string {
  return `An internal error stopped this (reference ${reference}); it has been logged for the operators`;
}

/**
 * An internal error replaced for owners and queue readers: `message` is internalErrorMessage,
 * `detail` (redacted, for the log only) what the original said.
 */
export class InternalJobError extends Error {
  override readonly name = 'InternalJobError';

  constructor(
    reference: string,
    readonly detail: string,
  ) {
    super(internalErrorMessage(reference));
  }
}
