/** Longest account-deletion grace period accepted, in days. */
export const MAX_GRACE_DAYS = 365;

/**
 * A grace period in whole days, 1 to 365, from its configuration text. The message names the
 * expected shape only: config errors never repeat values.
 */
export function parseGraceDays(value: string): number {
  const text = value.trim();
  const days = /^\d{1,3}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(days) || days < 1 || days > MAX_GRACE_DAYS) {
    throw new Error(`must be a whole number of days from 1 to ${MAX_GRACE_DAYS}`);
  }
  return days;
}
