import { FactoryProvider } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ConfigValidationError } from '@subscribernest/shared';

/**
 * How long a deletion request waits before the account is deleted. Read here, in the api, until
 * `ACCOUNT_DELETION_GRACE_DAYS` joins `ApiEnv`/`WorkerEnv` in the shared config schema (the
 * worker's deletion cron needs the same value).
 */
export interface AccountDeletionPolicy {
  graceDays: number;
}

export const ACCOUNT_DELETION_POLICY = 'ACCOUNT_DELETION_POLICY';

export const GRACE_DAYS_VARIABLE = 'ACCOUNT_DELETION_GRACE_DAYS';
export const DEFAULT_GRACE_DAYS = 30;
const MAX_GRACE_DAYS = 365;

/**
 * The policy from the raw variable: unset or empty means the default; anything but a whole number
 * of days from 1 to 365 is a ConfigValidationError, which stops the api at start with one line.
 */
export function accountDeletionPolicyFrom(raw: unknown): AccountDeletionPolicy {
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) {
    return { graceDays: DEFAULT_GRACE_DAYS };
  }
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
  const days = /^\d{1,3}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(days) || days < 1 || days > MAX_GRACE_DAYS) {
    throw new ConfigValidationError([
      `${GRACE_DAYS_VARIABLE} must be a whole number of days from 1 to ${MAX_GRACE_DAYS}`,
    ]);
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
