import { CRON, JOB } from './job-names';

/**
 * The crons an admin may run by hand: the ones the worker implements (the outbox sweep runs every
 * few seconds anyway). The worker refuses to start unless a scheduler registered a handler for every name here.
 */
export const MANUAL_CRONS = [
  CRON.midnightSync,
  CRON.dataRetention,
  CRON.accountDeletion,
  CRON.monthlyBilling,
] as const;
export type ManualCronName = (typeof MANUAL_CRONS)[number];

export function isManualCron(name: string): name is ManualCronName {
  return (MANUAL_CRONS as readonly string[]).includes(name);
}

/** The minute a manual tick stands for: its `cron_runs` tick, and part of its job id. */
export function manualTickOf(requestedAt: Date): Date {
  const minute = new Date(requestedAt);
  minute.setUTCSeconds(0, 0);
  return minute;
}

/**
 * The job id of an admin's re-run of a `cron_runs` row: one per row and attempt count, so a double
 * click re-runs once while a later re-run (after that attempt ended) gets its own job.
 */
export function rerunCronTickJobId(cronRunId: string, attempts: number): string {
  return `${JOB.rerunCronTick}:${cronRunId}:${attempts}`;
}

/**
 * The job id of a manual tick: one per cron per UTC minute, so a double click adds one job (and
 * the worker's `cron_runs` claim of that minute runs it once). BullMQ 5 accepts `:` in a custom id
 * only with exactly three parts, hence a minute without `:`.
 */
export function runCronJobId(name: ManualCronName, requestedAt: Date): string {
  const minute = manualTickOf(requestedAt).toISOString().slice(0, 16).replace(/[-T:]/g, '');
  return `${JOB.runCron}:${name}:${minute}`;
}
