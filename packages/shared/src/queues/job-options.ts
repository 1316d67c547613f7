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
} satisfies DefaultJobOptions;

export const DEFAULT_JOB_OPTIONS: Record<QueueName, DefaultJobOptions> = {
  [QUEUE.subscriberSync]: {
    ...RETENTION,
    attempts: 5,
    backoff: { type: 'exponential', delay: 30_000 },
  },
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
};
