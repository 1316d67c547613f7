import { AdminAction } from './admin-action.entity';
import { BillingAccount } from './billing-account.entity';
import { BillingPeriod } from './billing-period.entity';
import { CronRun } from './cron-run.entity';
import { EspConnection } from './esp-connection.entity';
import { JobRun } from './job-run.entity';
import { LoginCode } from './login-code.entity';
import { OutboxEvent } from './outbox-event.entity';
import { Session } from './session.entity';
import { StripeWebhookEvent } from './stripe-webhook-event.entity';
import { Subscriber } from './subscriber.entity';
import { SubscriberCount } from './subscriber-count.entity';
import { SubscriberCountSnapshot } from './subscriber-count-snapshot.entity';
import { SyncRun } from './sync-run.entity';
import { SyncSeenBatch } from './sync-seen-batch.entity';
import { SyncSeenSubscriber } from './sync-seen-subscriber.entity';
import { User } from './user.entity';

export * from './admin-action.entity';
export * from './billing-account.entity';
export * from './billing-period.entity';
export * from './cron-run.entity';
export * from './esp-connection.entity';
export * from './job-run.entity';
export * from './login-code.entity';
export * from './outbox-event.entity';
export * from './session.entity';
export * from './stripe-webhook-event.entity';
export * from './subscriber.entity';
export * from './subscriber-count.entity';
export * from './subscriber-count-snapshot.entity';
export * from './sync-run.entity';
export * from './sync-seen-batch.entity';
export * from './sync-seen-subscriber.entity';
export * from './user.entity';

/** Every entity, for the DataSource (listed, not globbed, so dist and tests load the same set). */
export const ENTITIES = [
  User,
  LoginCode,
  Session,
  EspConnection,
  Subscriber,
  SubscriberCount,
  SyncRun,
  SyncSeenBatch,
  SyncSeenSubscriber,
  SubscriberCountSnapshot,
  BillingAccount,
  BillingPeriod,
  JobRun,
  CronRun,
  OutboxEvent,
  AdminAction,
  StripeWebhookEvent,
];
