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
