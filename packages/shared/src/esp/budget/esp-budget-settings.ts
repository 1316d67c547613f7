import type { EspType } from '../../entities/esp-connection.entity';
import type { EspCallPriority, EspCredentialKind } from './esp-rate-budget';

/**
 * The vendors' documented limits (../shared/ESP-APIS.md), the budgets' defaults. Configurable so
 * that an account with a negotiated quota, or a test against a fake with a short window, can say
 * so; the windows are configurable for the same reason.
 */
export const ESP_BUDGET_DEFAULTS = {
  /** beehiiv: 180 requests per minute per organization, until its RateLimit-* headers say more. */
  ESP_BUDGET_BEEHIIV_REQUESTS: 180,
  ESP_BUDGET_BEEHIIV_WINDOW_MS: 60_000,
  /** Kit: 120 requests per rolling 60 s per API key, 600 per OAuth token. */
  ESP_BUDGET_KIT_API_KEY_REQUESTS: 120,
  ESP_BUDGET_KIT_OAUTH_REQUESTS: 600,
  ESP_BUDGET_KIT_WINDOW_MS: 60_000,
  /** Mailchimp: at most 10 simultaneous connections per account. */
  ESP_BUDGET_MAILCHIMP_IN_FLIGHT: 10,
  /** The longest a call waits in-process for its budget; past it, RateLimitedError. */
  ESP_BUDGET_MAX_WAIT_MS: 10_000,
} as const;

/** The configuration the budgets read (part of `SharedEnv`). */
export interface EspBudgetSettings {
  ESP_BUDGET_BEEHIIV_REQUESTS?: number;
  ESP_BUDGET_BEEHIIV_WINDOW_MS?: number;
  ESP_BUDGET_KIT_API_KEY_REQUESTS?: number;
  ESP_BUDGET_KIT_OAUTH_REQUESTS?: number;
  ESP_BUDGET_KIT_WINDOW_MS?: number;
  ESP_BUDGET_MAILCHIMP_IN_FLIGHT?: number;
  ESP_BUDGET_MAX_WAIT_MS?: number;
}

/**
 * How one vendor's budget works:
 * - `vendor-window`: the vendor counts requests in windows and says in every answer how many are
 *   left and when the window resets (beehiiv's RateLimit-Remaining/-Reset); `requests` per
 *   `windowMs` is only the assumption until the first answer.
 * - `rolling-window`: at most `requests` sent in any `windowMs` (Kit), counted by us.
 * - `concurrency`: at most `slots` requests in flight (Mailchimp), each holding a lease.
 */
export type EspBudgetPolicy =
  | { kind: 'vendor-window'; requests: number; windowMs: number }
  | { kind: 'rolling-window'; requests: number; windowMs: number }
  | { kind: 'concurrency'; slots: number };

/**
 * Share of each budget a `background` call (a sync's page) leaves to `interactive` ones: an owner
 * waiting on a live count should not queue behind a sync that keeps the budget saturated.
 */
const INTERACTIVE_SHARE = 0.1;

export function budgetPolicy(
  esp: EspType,
  kind: EspCredentialKind,
  settings: EspBudgetSettings,
): EspBudgetPolicy {
  const d = ESP_BUDGET_DEFAULTS;
  switch (esp) {
    case 'beehiiv':
      return {
        kind: 'vendor-window',
        requests: settings.ESP_BUDGET_BEEHIIV_REQUESTS ?? d.ESP_BUDGET_BEEHIIV_REQUESTS,
        windowMs: settings.ESP_BUDGET_BEEHIIV_WINDOW_MS ?? d.ESP_BUDGET_BEEHIIV_WINDOW_MS,
      };
    case 'kit':
      return {
        kind: 'rolling-window',
        requests:
          kind === 'oauth'
            ? (settings.ESP_BUDGET_KIT_OAUTH_REQUESTS ?? d.ESP_BUDGET_KIT_OAUTH_REQUESTS)
            : (settings.ESP_BUDGET_KIT_API_KEY_REQUESTS ?? d.ESP_BUDGET_KIT_API_KEY_REQUESTS),
        windowMs: settings.ESP_BUDGET_KIT_WINDOW_MS ?? d.ESP_BUDGET_KIT_WINDOW_MS,
      };
    case 'mailchimp':
      return {
        kind: 'concurrency',
        slots: settings.ESP_BUDGET_MAILCHIMP_IN_FLIGHT ?? d.ESP_BUDGET_MAILCHIMP_IN_FLIGHT,
      };
  }
}

/**
 * How much of a budget of `size` a call of `priority` must leave unused: nothing for interactive
 * calls, a tenth (at least one, when the budget has room for it) for background ones.
 */
export function reserveFor(priority: EspCallPriority, size: number): number {
  if (priority === 'interactive' || size < 2) return 0;
  return Math.max(1, Math.floor(size * reserveShare(priority)));
}

/** The share itself, for a budget whose size only Redis knows (beehiiv's reported limit). */
export function reserveShare(priority: EspCallPriority): number {
  return priority === 'interactive' ? 0 : INTERACTIVE_SHARE;
}
