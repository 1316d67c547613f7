/** BullMQ queue names. Never a class name, never a literal at the call site. */
export const QUEUE = {
  subscriberSync: 'subscriber-sync',
  domainEvents: 'domain-events',
  email: 'email',
  /** Cron ticks an admin asked for by hand (`POST /admin/schedulers/:name/run`). */
  schedulerTicks: 'scheduler-ticks',
  /** One `delete-account` job per due deletion request (the daily account-deletion cron). */
  accountDeletion: 'account-deletion',
  /** One `close-period` job per billable user and month (the monthly-billing cron). */
  billing: 'billing',
} as const;
export type QueueName = (typeof QUEUE)[keyof typeof QUEUE];
export const QUEUE_NAMES: QueueName[] = Object.values(QUEUE);
