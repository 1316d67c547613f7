import { EVENT, EventName } from '../events/event-names';
import { QUEUE, QueueName } from './queue-names';

export const JOB = {
  syncPublication: 'sync-publication',
  loginCode: 'login-code',
  signInNotification: 'sign-in-notification',
  runCron: 'run-cron',
  rerunCronTick: 'rerun-cron-tick',
  deleteAccount: 'delete-account',
  closePeriod: 'close-period',
} as const;
export type JobName = (typeof JOB)[keyof typeof JOB];

/**
 * Which job names each queue carries. The worker refuses to start unless every queue here has a
 * processor with a handler for each of its job names, so a producer can never enqueue work nobody
 * will do: a queue joins this contract with its processor.
 */
export const QUEUE_JOBS = {
  [QUEUE.subscriberSync]: [JOB.syncPublication],
  [QUEUE.domainEvents]: Object.values(EVENT),
  [QUEUE.email]: [JOB.loginCode, JOB.signInNotification],
  [QUEUE.schedulerTicks]: [JOB.runCron, JOB.rerunCronTick],
  [QUEUE.accountDeletion]: [JOB.deleteAccount],
  [QUEUE.billing]: [JOB.closePeriod],
} as const satisfies Record<QueueName, readonly (JobName | EventName)[]>;

export type JobNameOf<Q extends QueueName> = (typeof QUEUE_JOBS)[Q][number];

/** Cron and interval names; each equals the file stem of its scheduler. */
export const CRON = {
  midnightSync: 'midnight-sync',
  monthlyBilling: 'monthly-billing',
  accountDeletion: 'account-deletion',
  outboxSweep: 'outbox-sweep',
  dataRetention: 'data-retention',
} as const;
export type CronName = (typeof CRON)[keyof typeof CRON];
