import { SyncTrigger } from '../entities/sync-run.entity';
import { DomainEventPayloads } from '../events/domain-event';
import { JOB } from './job-names';
import { ManualCronName } from './manual-cron-ticks';

/**
 * One typed contract per job, keyed by job name, so a producer and its processor cannot disagree
 * on a payload's shape. Secrets (the login code, addresses) travel encrypted with
 * EncryptionService: Redis is not a place for plaintext.
 */
export interface JobPayloads extends DomainEventPayloads {
  [JOB.syncPublication]: { espConnectionId: string; syncRunId: string; trigger: SyncTrigger };
  [JOB.loginCode]: {
    loginCodeId: string;
    emailEncrypted: string;
    codeEncrypted: string;
    expiresAt: string;
  };
  [JOB.signInNotification]: {
    userId: string;
    sessionId: string;
    emailEncrypted: string;
    signedInAt: string;
    ip: string | null;
    userAgent: string | null;
  };
  /** `requestedBy` is the admin's user id; the tick the worker claims is `requestedAt`'s minute. */
  [JOB.runCron]: { name: ManualCronName; requestedBy: string; requestedAt: string };
  /** An admin's re-run of one `cron_runs` row (`requestedBy` is the admin's user id). */
  [JOB.rerunCronTick]: { cronRunId: string; requestedBy: string };
}

export type PayloadOf<N extends keyof JobPayloads> = JobPayloads[N];
