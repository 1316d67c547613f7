import type { HeaderReader } from '../esp-transport';
/** Epoch seconds are above this; smaller RateLimit-Reset values are delta seconds (IETF draft). */
const EPOCH_SECONDS_THRESHOLD = 1_000_000_000;

/** What an answer's RateLimit-* headers say about the vendor's current window. */
export interface VendorWindow {
  /** Requests left in the window, this one counted. */
  remaining: number;
  /** When the window resets, ms since the epoch. */
  resetAtMs: number;
  /** The window's quota; null when not given. */
  limit: number | null;
}

/**
 * beehiiv's RateLimit-Remaining / RateLimit-Reset (epoch seconds; small values read as delta
 * seconds) / RateLimit-Limit, or null when Remaining or Reset is missing or not a number.
 */
export function readVendorWindow(headers: HeaderReader, now: number): VendorWindow | null {
  const number = (name: string): number | null => {
    const raw = headers.get(name)?.trim();
    if (!raw) return null;
    const value = Number(raw);
    return Number.isFinite(value) && value >= 0 ? value : null;
  };
  const remaining = number('ratelimit-remaining');
  const reset = number('ratelimit-reset');
  if (remaining === null || reset === null) return null;
  const limit = number('ratelimit-limit');
  return {
    remaining: Math.floor(remaining),
    resetAtMs: Math.ceil(reset > EPOCH_SECONDS_THRESHOLD ? reset * 1000 : now + reset * 1000),
    limit: limit === null ? null : Math.floor(limit),
  };
}
