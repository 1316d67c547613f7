import { CRON } from '@subscribernest/shared';
import { DefaultJobOptions } from 'bullmq';

/*
 * Manual cron ticks requested by an admin (`POST /admin/schedulers/:name/run`).
 *
 * TEMPORARY HOME: this contract belongs in packages/shared/src/queues (QUEUE, QUEUE_JOBS,
 * JobPayloads, DEFAULT_JOB_OPTIONS) next to the others, with a worker processor that claims a
 * `manual` tick in `cron_runs` and runs the named cron. Until both land, ticks wait in the queue
 * (visible in Bull Board) and nothing consumes them.
 */

export const SCHEDULER_TICKS_QUEUE = 'scheduler-ticks';
export const RUN_CRON_JOB = 'run-cron';

/** The crons an admin may run by hand (the outbox sweep runs every few seconds anyway). */
export const MANUAL_CRONS = [CRON.midnightSync, CRON.monthlyBilling, CRON.accountDeletion] as const;
export type ManualCronName = (typeof MANUAL_CRONS)[number];

export interface RunCronPayload {
  name: ManualCronName;
  /** The admin's user id. */
  requestedBy: string;
  requestedAt: string;
}

/** One attempt (the worker's claim makes a tick idempotent, an admin can click again), bounded retention. */
export const SCHEDULER_TICKS_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 1,
  removeOnComplete: { age: 24 * 60 * 60, count: 1_000 },
  removeOnFail: { age: 7 * 24 * 60 * 60, count: 1_000 },
};

/**
 * The job id of a manual tick: one per cron per UTC minute, so a double click adds one job.
 * BullMQ 5 accepts `:` in a custom id only with exactly three parts, hence a minute without `:`.
 */
export function runCronJobId(name: ManualCronName, at: Date): string {
  const minute = at.toISOString().slice(0, 16).replace(/[-T:]/g, '');
  return `${RUN_CRON_JOB}:${name}:${minute}`;
}
