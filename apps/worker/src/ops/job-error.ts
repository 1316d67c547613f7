import { maskEmail } from '@subscribernest/shared';

const MAX_LENGTH = 2_000;
const EMAIL = /[^\s@"'<>(),;:]+@[^\s@"'<>(),;:]+\.[A-Za-z]{2,}/g;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;

/**
 * The error text kept in `job_runs.last_error` and in logs: name and message only (never the
 * stack's locals or an error's extra properties, where drivers keep query parameters), addresses
 * masked, credentials in headers cut, bounded in length.
 */
export function describeJobError(error: unknown): string {
  const text =
    error instanceof Error
      ? `${error.name}: ${error.message}`
      : typeof error === 'string'
        ? error
        : 'Unknown error';
  const cleaned = text
    .replace(EMAIL, (address) => maskEmail(address))
    .replace(BEARER, (_match, scheme: string) => `${scheme} [redacted]`);
  return cleaned.length > MAX_LENGTH ? `${cleaned.slice(0, MAX_LENGTH - 1)}…` : cleaned;
}
