import type { HeaderReader } from '../esp-transport';
import type { EspType } from '../../entities/esp-connection.entity';

/** How a call authenticates: Kit gives an OAuth token a larger budget than an API key. */
export type EspCredentialKind = 'api-key' | 'oauth';

/**
 * Who is waiting on the call. `interactive`: an owner waiting on the api (validate, counts, list
 * look-ups). `background`: a sync's pages, which leave a reserve of each budget to interactive
 * calls, so a long sync never makes the api's live answers wait for it.
 */
export type EspCallPriority = 'interactive' | 'background';

/** One request's claim on the budget of the credential it is sent with. */
export interface EspBudgetClaim {
  esp: EspType;
  /** The key or token the call is sent with; only its hash ever names anything in Redis. */
  credential: string;
  kind: EspCredentialKind;
  priority: EspCallPriority;
}

/** A claim granted: the request may be sent now. */
export interface EspBudgetGrant {
  /**
   * Once the request has ended (answered or failed): frees a Mailchimp slot and feeds beehiiv's
   * RateLimit-* headers (`null`: no answer, e.g. a network error) back into the shared budget.
   * Never throws.
   */
  release(headers: HeaderReader | null): Promise<void>;
}

/**
 * The per-credential request budget every ESP call takes from before it is sent, shared by every
 * process of the fleet. `acquire` waits while the budget is used up, for at most the bound it was
 * built with; a longer wait is a `RateLimitedError` (no request is sent), which a sync turns into
 * a delayed job and the api into a 429 with Retry-After.
 */
export interface EspRateBudget {
  acquire(claim: EspBudgetClaim): Promise<EspBudgetGrant>;
}

/** Where budget waits are reported (a metric, a test's counter). */
export interface EspBudgetObserver {
  /** A call waited `waitedMs` in-process before its budget let it go. */
  onWait(esp: EspType, waitedMs: number): void;
  /** A call was not sent: its budget frees up only in `retryAfterMs`, past the wait bound. */
  onDeferred?(esp: EspType, retryAfterMs: number): void;
}

/** A grant with nothing to give back (a rolling window's send, a call without a budget). */
export const NO_BUDGET_GRANT: EspBudgetGrant = { release: () => Promise.resolve() };

/** No budget: every call goes at once (clients built outside Nest: scripts, benchmarks, tests). */
export const UNLIMITED_BUDGET: EspRateBudget = {
  acquire: () => Promise.resolve(NO_BUDGET_GRANT),
};
