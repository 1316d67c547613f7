import { FactoryProvider } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ConfigValidationError, parseGraceDays } from '@subscribernest/shared';

/**
 * How long a deletion request waits before the account is deleted, from
 * `ACCOUNT_DELETION_GRACE_DAYS` (validated with the rest of `ApiEnv` at start-up).
 */
export interface AccountDeletionPolicy {
  graceDays: number;
}

export const ACCOUNT_DELETION_POLICY = 'ACCOUNT_DELETION_POLICY';

export const GRACE_DAYS_VARIABLE = 'ACCOUNT_DELETION_GRACE_DAYS';
export const DEFAULT_GRACE_DAYS = 30;

/**
 * The policy from the raw variable: unset or empty means the default; anything but a whole number
 * of days from 1 to 365 is a ConfigValidationError (the same rule `ApiEnv` checks at start-up).
 */
export function accountDeletionPolicyFrom(raw: unknown): AccountDeletionPolicy {
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) {
    return { graceDays: DEFAULT_GRACE_DAYS };
  }
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw : '';
  let days: number;
  try {
    days = parseGraceDays(text);
  } catch (error) {
    throw new ConfigValidationError([`${GRACE_DAYS_VARIABLE} ${(error as Error).message}`]);
  }
  return { graceDays: days };
}

export const accountDeletionPolicyProvider: FactoryProvider<AccountDeletionPolicy> = {
  provide: ACCOUNT_DELETION_POLICY,
  inject: [ConfigService],
  useFactory: (config: ConfigService) => accountDeletionPolicyFrom(config.get(GRACE_DAYS_VARIABLE)),
};

/** When an account whose deletion was requested at `requestedAt` will be deleted. */
export function deletionDate(requestedAt: Date, policy: AccountDeletionPolicy): Date {
  return new Date(requestedAt.getTime() + policy.graceDays * 24 * 60 * 60 * 1000);
}
