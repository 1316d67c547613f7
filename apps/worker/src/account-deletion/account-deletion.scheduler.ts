import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Cron } from '@nestjs/schedule';
import {
  CRON,
  deleteAccountJobId,
  JOB,
  JobProducer,
  parseGraceDays,
  WorkerEnv,
} from '@subscribernest/shared';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { ClaimedCron } from '../schedulers/claimed-cron';
import { CronClaim, CronTickOutcome, CronTicksService } from '../schedulers/cron-ticks.service';
import { AccountDeletionRepository } from './account-deletion.repository';

/** Every day at 03:00 UTC (ARCHITECTURE §5), after the midnight sync. */
export const ACCOUNT_DELETION_SCHEDULE = '0 3 * * *';

/** Users per keyset page: one query and one `addBulk` each; memory stays flat. */
export const ACCOUNT_DELETION_PAGE_SIZE = 1_000;

/**
 * The account-deletion cron: at 03:00 UTC, one `delete-account` job for every user whose deletion
 * request is older than ACCOUNT_DELETION_GRACE_DAYS (the value the api tells the owner).
 *
 * The tick is claimed, caught up and re-run like every cron's (ClaimedCron; by hand:
 * `POST /admin/schedulers/account-deletion/run`). Due users are read in
 * keyset pages and enqueued with `addBulk`, job id = user and request (deleteAccountJobId), so a
 * re-run adds nothing twice; the processor re-checks each request before deleting.
 */
@Injectable()
export class AccountDeletionScheduler extends ClaimedCron {
  private readonly graceDays: number;

  constructor(
    ticks: CronTicksService,
    private readonly repository: AccountDeletionRepository,
    private readonly producer: JobProducer,
    config: ConfigService<WorkerEnv, true>,
    @InjectPinoLogger(AccountDeletionScheduler.name) logger: PinoLogger,
  ) {
    super(ticks, CRON.accountDeletion, ACCOUNT_DELETION_SCHEDULE, config, logger);
    this.graceDays = parseGraceDays(config.get('ACCOUNT_DELETION_GRACE_DAYS', { infer: true }));
  }

  @Cron(ACCOUNT_DELETION_SCHEDULE, { name: CRON.accountDeletion, timeZone: 'UTC' })
  onSchedule(): Promise<void> {
    return this.fire();
  }

  protected runTick(claim: CronClaim): Promise<CronTickOutcome> {
    return this.queueDeletions(claim);
  }

  /** The fan-out of one claimed tick (scheduled, caught up or manual). */
  async queueDeletions(claim: CronClaim): Promise<CronTickOutcome> {
    const outcome: CronTickOutcome = { queued: 0, skipped: 0 };
    let after: string | null = null;
    for (;;) {
      const stop = this.ticks.stopReason(claim);
      if (stop) throw new Error(`${stop} after ${outcome.queued} deletions queued`);
      const due = await this.repository.dueAfter(after, ACCOUNT_DELETION_PAGE_SIZE, this.graceDays);
      if (due.length === 0) break;
      await this.producer.addBulk(
        JOB.deleteAccount,
        due.map((request) => ({
          data: { userId: request.userId, requestedAt: request.requestedAt.toISOString() },
          jobId: deleteAccountJobId(request.userId, request.requestedAt),
        })),
      );
      outcome.queued += due.length;
      if (due.length < ACCOUNT_DELETION_PAGE_SIZE) break;
      after = due[due.length - 1].userId;
    }
    this.logger.info(
      { cronRunId: claim.id, queued: outcome.queued, graceDays: this.graceDays },
      'account deletion: due requests queued',
    );
    return outcome;
  }
}
