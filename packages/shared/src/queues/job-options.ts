import { DefaultJobOptions } from 'bullmq';
import { QUEUE, QueueName } from './queue-names';

const DAY_SECONDS = 24 * 60 * 60;

/**
 * Retention on every queue: Redis keeps a bounded, recent history only; the durable record lives
 * in Postgres (`job_runs`, `sync_runs`).
 */
const RETENTION = {
  removeOnComplete: { age: DAY_SECONDS, count: 1_000 },
  removeOnFail: { age: 7 * DAY_SECONDS, count: 5_000 },
  // No stack traces in Redis: they hold absolute paths, and the queue board would show them. The
  // failure's message (redacted, see dispatch) is kept; the worker's log has the rest.
  stackTraceLimit: 0,
} satisfies DefaultJobOptions;

/** The job settings operators may change (SharedEnv: both apps add sync jobs). */
export interface JobSettings {
  SYNC_JOB_ATTEMPTS: number;
  SYNC_JOB_BACKOFF_MS: number;
}

export const DEFAULT_JOB_SETTINGS: JobSettings = {
  SYNC_JOB_ATTEMPTS: 5,
  SYNC_JOB_BACKOFF_MS: 30_000,
};

/** Each queue's default job options (attempts, backoff, retention) under `settings`. */
export function jobOptionsFor(settings: JobSettings): Record<QueueName, DefaultJobOptions> {
  return {
    [QUEUE.subscriberSync]: {
      ...RETENTION,
      attempts: settings.SYNC_JOB_ATTEMPTS,
      backoff: { type: 'exponential', delay: settings.SYNC_JOB_BACKOFF_MS },
    },
    ...FIXED_JOB_OPTIONS,
  };
}

const FIXED_JOB_OPTIONS = {
  [QUEUE.domainEvents]: {
    ...RETENTION,
    attempts: 10,
    backoff: { type: 'exponential', delay: 1_000 },
  },
  [QUEUE.email]: {
    ...RETENTION,
    attempts: 5,
    backoff: { type: 'exponential', delay: 2_000 },
  },
  // One attempt: the tick's outcome is recorded in `cron_runs`, and an admin can simply ask again.
  [QUEUE.schedulerTicks]: {
    ...RETENTION,
    attempts: 1,
  },
  // A deletion that failed half-way (Postgres away, a worker killed) resumes where it stopped:
  // every step deletes what is left, so retrying is safe. Waiting out a running sync is a delay,
  // not an attempt.
  [QUEUE.accountDeletion]: {
    ...RETENTION,
    attempts: 10,
    backoff: { type: 'exponential', delay: 60_000 },
  },
  // Closing a month is idempotent (the row is upserted, Stripe de-duplicates by identifier and
  // idempotency key), so a Stripe or Postgres outage is simply retried, for a few hours in all.
  [QUEUE.billing]: {
    ...RETENTION,
    attempts: 12,
    backoff: { type: 'exponential', delay: 30_000 },
  },
} satisfies Record<Exclude<QueueName, typeof QUEUE.subscriberSync>, DefaultJobOptions>;

/** The options with the default settings (tests' own producers, and documentation). */
export const DEFAULT_JOB_OPTIONS = jobOptionsFor(DEFAULT_JOB_SETTINGS);
