import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JOB, PayloadOf, WorkerEnv } from '@subscribernest/shared';
import { Job } from 'bullmq';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { JobHandback } from '../ops/job-handback';
import {
  StripeSubscriptionCanceller,
  SubscriptionCancellation,
} from './stripe-subscription-canceller';
import {
  ACCOUNT_DELETION_STEPS,
  AccountDeletionRepository,
  AccountDeletionStep,
  DeletionTarget,
} from './account-deletion.repository';

/** How long a deletion waits for a sync of the account that is still queued or running. */
export const SYNC_WAIT_MS = 60_000;

/**
 * What a `delete-account` job did, counts only (it is the job's return value and its log line):
 * `deleted` when the account is gone, `withdrawn` when the request it was queued for is no longer
 * pending (nothing deleted), `gone` when no such user exists (an earlier attempt finished).
 */
export interface AccountDeletionResult {
  result: 'deleted' | 'withdrawn' | 'gone';
  /** What became of the user's Stripe subscription (cancelled before anything is deleted). */
  subscription: SubscriptionCancellation | null;
  deleted: Record<AccountDeletionStep, number>;
  batches: number;
}

/**
 * The `delete-account` processor's work. Under the user's row lock it re-checks that the request
 * the job was queued for is still pending; while a sync of the account is queued or running it
 * puts the job off (no new sync can start: the api refuses POST /esp-connections/:id/sync during
 * the grace period and the midnight fan-out skips the account). Then it deletes the account table
 * by table (ACCOUNT_DELETION_STEPS), each in batches of ACCOUNT_DELETION_BATCH_SIZE rows, one
 * short autocommit statement each, the `users` row last: a deletion stopped anywhere (a crash, a
 * kill, shutdown's hand-back between batches) is finished by the next attempt, which finds the
 * same pending request and deletes what is left.
 *
 * Billing: with Stripe configured the user's subscription is cancelled before the first row is
 * deleted (StripeSubscriptionCanceller), then the steps delete `billing_accounts` and
 * `billing_periods` with the rest.
 */
@Injectable()
export class AccountDeletionService {
  private readonly batchSize: number;

  constructor(
    private readonly repository: AccountDeletionRepository,
    private readonly handback: JobHandback,
    private readonly subscriptions: StripeSubscriptionCanceller,
    config: ConfigService<WorkerEnv, true>,
    @InjectPinoLogger(AccountDeletionService.name) private readonly logger: PinoLogger,
  ) {
    this.batchSize = config.get('ACCOUNT_DELETION_BATCH_SIZE', { infer: true });
  }

  async deleteAccount(
    data: PayloadOf<typeof JOB.deleteAccount>,
    job: Job,
    token: string | undefined,
  ): Promise<AccountDeletionResult> {
    const outcome: AccountDeletionResult = {
      result: 'deleted',
      subscription: null,
      batches: 0,
      deleted: Object.fromEntries(ACCOUNT_DELETION_STEPS.map((step) => [step, 0])) as Record<
        AccountDeletionStep,
        number
      >,
    };
    const requestedAt = new Date(data.requestedAt);
    if (Number.isNaN(requestedAt.getTime())) {
      throw new Error('delete-account job has no valid requestedAt');
    }

    const check = await this.repository.lockAndCheck(data.userId, requestedAt);
    if (check.state === 'gone' || check.state === 'withdrawn') {
      outcome.result = check.state;
      this.log(data.userId, job, outcome);
      return outcome;
    }
    if (check.state === 'syncing') {
      throw await this.handback.delay(
        job,
        token,
        new Date(Date.now() + SYNC_WAIT_MS),
        `account deletion waits for ${check.runs} sync run(s) of the account to end`,
      );
    }

    // Billing first: a deletion that fails after this is retried, but the account is never charged
    // again, whatever happens to the rows.
    outcome.subscription = await this.subscriptions.cancelFor(data.userId);

    const target: DeletionTarget = {
      userId: data.userId,
      connectionIds: check.connectionIds,
      email: check.email,
    };
    for (const step of ACCOUNT_DELETION_STEPS) {
      for (;;) {
        if (this.handback.requested && token) {
          throw await this.handback.handBack(
            job,
            token,
            `account deletion handed back on shutdown after ${outcome.batches} batches`,
          );
        }
        const affected = await this.repository.deleteBatch(step, target, this.batchSize);
        outcome.batches += 1;
        outcome.deleted[step] += affected;
        if (affected < this.batchSize) break;
      }
    }
    this.log(data.userId, job, outcome);
    return outcome;
  }

  private log(userId: string, job: Job, outcome: AccountDeletionResult): void {
    this.logger.info(
      { userId, jobId: job.id, attempt: job.attemptsMade + 1, ...outcome },
      `account deletion: ${outcome.result}`,
    );
  }
}
