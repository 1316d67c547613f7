/**
 * The vendors' request limits as the fake enforces them (../shared/ESP-APIS.md): a request over
 * a limit answers 429 in the vendor's shape, as the real API would.
 */
export interface FakeRateLimits {
  /**
   * beehiiv: requests per fixed window per account (documented: 180 per 60 s), reported in every
   * answer's RateLimit-Limit/-Remaining/-Reset. null: not enforced, and the headers report the
   * whole quota as left (so a client that follows them is never held back).
   */
  beehiiv?: { requests: number; windowMs: number } | null;
  /**
   * Kit: requests per rolling window per API key and per OAuth token (documented: 120 and 600
   * per 60 s). null: not enforced.
   */
  kit?: { apiKeyRequests: number; oauthRequests: number; windowMs: number } | null;
  /** Mailchimp: requests in flight per account (documented: 10). null: not enforced. */
  mailchimp?: { inFlight: number } | null;
}

export const DOCUMENTED_RATE_LIMITS: Required<FakeRateLimits> = {
  beehiiv: { requests: 180, windowMs: 60_000 },
  kit: { apiKeyRequests: 120, oauthRequests: 600, windowMs: 60_000 },
  mailchimp: { inFlight: 10 },
};

/**
 * Without `rateLimits` the fake enforces only Mailchimp's 10 in flight (as it always has), so
 * tests that pull large lists quickly keep doing so; `'documented'` enforces every documented
 * limit, and an object overrides some of them (the others stay documented; null turns one off).
 */
export function resolveRateLimits(
  option: 'documented' | FakeRateLimits | undefined,
): Required<FakeRateLimits> {
  if (option === undefined) {
    return { beehiiv: null, kit: null, mailchimp: DOCUMENTED_RATE_LIMITS.mailchimp };
  }
  if (option === 'documented') return DOCUMENTED_RATE_LIMITS;
  return { ...DOCUMENTED_RATE_LIMITS, ...option };
}

/** What a test reads back: how close the clients came to each limit, and how often they passed it. */
export interface FakeRateLimitStats {
  /** Most requests admitted in one window (beehiiv fixed, Kit rolling; Kit: either credential). */
  peakWindowRequests: number;
  /** Most requests in flight at once. */
  peakInFlight: number;
  /** Requests answered 429 because a limit was passed (injected faults not included). */
  rejected: number;
}

/** Requests in fixed windows aligned to multiples of `windowMs` since the epoch (beehiiv). */
export class FixedWindowCounter {
  private start = 0;
  private count = 0;

  constructor(readonly windowMs: number) {}

  /** The requests admitted so far in the window `now` falls in. */
  used(now: number): number {
    this.roll(now);
    return this.count;
  }

  admit(now: number): number {
    this.roll(now);
    return ++this.count;
  }

  /** When the window `now` falls in ends, in epoch seconds (RateLimit-Reset). */
  resetEpochSeconds(now: number): number {
    this.roll(now);
    return Math.ceil((this.start + this.windowMs) / 1000);
  }

  private roll(now: number): void {
    const start = now - (now % this.windowMs);
    if (start !== this.start) {
      this.start = start;
      this.count = 0;
    }
  }
}

/** Requests admitted in the last `windowMs` (Kit's rolling minute). */
export class RollingWindowCounter {
  private readonly times: number[] = [];
  private head = 0;

  constructor(readonly windowMs: number) {}

  used(now: number): number {
    while (this.head < this.times.length && this.times[this.head] <= now - this.windowMs) {
      this.head++;
    }
    if (this.head > 1024) {
      this.times.splice(0, this.head);
      this.head = 0;
    }
    return this.times.length - this.head;
  }

  admit(now: number): number {
    this.used(now);
    this.times.push(now);
    return this.times.length - this.head;
  }

  /** Seconds until the oldest request in the window leaves it. */
  retryAfterSeconds(now: number): number {
    this.used(now);
    const oldest = this.times[this.head];
    return oldest === undefined ? 0 : Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000));
  }
}
