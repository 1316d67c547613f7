/** Limits of sign-in and sessions. Production uses DEFAULT_AUTH_POLICY. */
export interface AuthPolicy {
  /** How long an emailed code works. */
  codeTtlMs: number;
  /** Wrong guesses after which a code stops working, even with the right digits. */
  maxCodeAttempts: number;
  /** How long a session token works unless revoked. */
  sessionTtlMs: number;
  /** Codes sent to one address per rolling window, whoever asks (counted in Postgres). */
  codesPerEmail: { limit: number; windowMs: number };
  /** Requests per client IP per auth route (send-code, verify-code) per window. */
  requestsPerIp: { limit: number; windowMs: number };
}

export const AUTH_POLICY = 'AUTH_POLICY';

const MINUTE = 60_000;

export const DEFAULT_AUTH_POLICY: AuthPolicy = {
  codeTtlMs: 10 * MINUTE,
  maxCodeAttempts: 5,
  sessionTtlMs: 30 * 24 * 60 * MINUTE,
  codesPerEmail: { limit: 5, windowMs: 15 * MINUTE },
  requestsPerIp: { limit: 10, windowMs: MINUTE },
};
