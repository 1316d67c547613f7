import { SyncTrigger } from '../entities/sync-run.entity';
import { DomainEventPayloads } from '../events/domain-event';
import { JOB } from './job-names';
import { ManualCronName } from './manual-cron-ticks';

/**
 * One typed contract per job, keyed by job name, so a producer and its processor cannot disagree
 * on a payload's shape. Payloads carry ids only: no address, code, IP or key, not even encrypted.
 * Redis and the queue board are readable by operators, and a job that could name its own
 * recipient and code would let whoever can add a job sign in as anyone. The processor loads what
 * it needs from Postgres and checks it is still valid there.
 */
export interface JobPayloads extends DomainEventPayloads {
  /**
   * `correlationId`: the api request or cron tick behind the run (absent in older jobs);
   * `traceparent`: its W3C trace context (trace and span ids, absent in older jobs).
   */
  [JOB.syncPublication]: {
    espConnectionId: string;
    syncRunId: string;
    trigger: SyncTrigger;
    correlationId?: string;
    traceparent?: string;
  };
  /** The `login_codes` row whose code is mailed to its address (both read there). */
  [JOB.loginCode]: { loginCodeId: string };
  /** The new session; the address, time, IP and browser are read from `sessions` and `users`. */
  [JOB.signInNotification]: { userId: string; sessionId: string };
  /** `requestedBy` is the admin's user id; the tick the worker claims is `requestedAt`'s minute. */
  [JOB.runCron]: { name: ManualCronName; requestedBy: string; requestedAt: string };
  /** An admin's re-run of one `cron_runs` row (`requestedBy` is the admin's user id). */
  [JOB.rerunCronTick]: { cronRunId: string; requestedBy: string };
  /**
   * The account whose deletion request, made at `requestedAt` (ISO, the `users.delete_requested_at`
   * the cron read), is due. The processor deletes only while that same request is still pending.
   */
  [JOB.deleteAccount]: { userId: string; requestedAt: string };
  /** The user's month to close, by its first UTC day (`YYYY-MM-01`). */
  [JOB.closePeriod]: { userId: string; periodStart: string };
}

/**
 * The job id of one deletion request: one per user and request, so the daily tick (or a re-run of
 * it) adds each request once, while a request made again after a withdrawal gets its own job.
 */
export function deleteAccountJobId(userId: string, requestedAt: Date): string {
  return `${JOB.deleteAccount}:${userId}:${requestedAt.getTime()}`;
}

/**
 * The job id of one user's month: a re-run of the monthly tick, a catch-up or an admin's manual
 * run adds the month once (BullMQ 5 accepts `:` in a custom id only with exactly three parts).
 */
export function closePeriodJobId(userId: string, periodStart: string): string {
  return `${JOB.closePeriod}:${userId}:${periodStart.slice(0, 7)}`;
}

export type PayloadOf<N extends keyof JobPayloads> = JobPayloads[N];

/**
 * Every field any job payload may carry: ids, enums and times, nothing that names or reaches a
 * person. job-payloads.spec.ts fails to compile when a payload gains a field not listed here,
 * which is the moment to ask whether it belongs in Redis at all (addresses, codes, IPs, user
 * agents and keys never do, not even encrypted). The queue board shows only these fields, and the
 * worker strips anything else from jobs queued by an older release (LegacyJobPayloadScrubber).
 */
export const JOB_PAYLOAD_FIELDS = [
  'eventId',
  'espConnectionId',
  'userId',
  'syncRunId',
  'sessionId',
  'loginCodeId',
  'cronRunId',
  'trigger',
  'name',
  'requestedBy',
  'requestedAt',
  'periodStart',
  'correlationId',
  'traceparent',
] as const;
export type JobPayloadField = (typeof JOB_PAYLOAD_FIELDS)[number];

const PAYLOAD_FIELD_SET: ReadonlySet<string> = new Set(JOB_PAYLOAD_FIELDS);

/** `data` without the fields no payload may carry (null when nothing had to go). */
export function strippedJobPayload(data: unknown): Record<string, unknown> | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
  const entries = Object.entries(data as Record<string, unknown>);
  if (entries.every(([key]) => PAYLOAD_FIELD_SET.has(key))) return null;
  return Object.fromEntries(entries.filter(([key]) => PAYLOAD_FIELD_SET.has(key)));
}
