import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
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
import {
  CronClaim,
  CronTickHandler,
  CronTickOutcome,
  CronTickResult,
  CronTicksService,
} from '../schedulers/cron-ticks.service';
import { AccountDeletionRepository } from './account-deletion.repository';

/** Every day at 03:00 UTC (ARCHITECTURE §5), after the midnight sync. */
export const ACCOUNT_DELETION_SCHEDULE = '0 3 * * *';

/** Users per keyset page: one query and one `addBulk` each; memory stays flat. */
export const ACCOUNT_DELETION_PAGE_SIZE = 1_000;

/**
 * The account-deletion cron: at 03:00 UTC, one `delete-account` job for every user whose deletion
 * request is older than ACCOUNT_DELETION_GRACE_DAYS (the value the api tells the owner).
 *
 * Like the midnight sync, the tick is claimed in `cron_runs` first (one replica does the work),
 * a missed tick is caught up at start-up, a failed one re-run by the recovery check, and an admin
 * can run it by hand (`POST /admin/schedulers/account-deletion/run`). Due users are read in
 * keyset pages and enqueued with `addBulk`, job id = user and request (deleteAccountJobId), so a
 * re-run adds nothing twice; the processor re-checks each request before deleting.
 */
@Injectable()
export class AccountDeletionScheduler implements OnApplicationBootstrap {
  private readonly enabled: boolean;
  private readonly graceDays: number;
  /** What a tick of this cron does, however it was triggered (also registered for re-runs). */
  private readonly fanOut: CronTickHandler = (claim) => this.queueDeletions(claim);

  constructor(
    private readonly ticks: CronTicksService,
    private readonly repository: AccountDeletionRepository,
    private readonly producer: JobProducer,
    config: ConfigService<WorkerEnv, true>,
    @InjectPinoLogger(AccountDeletionScheduler.name) private readonly logger: PinoLogger,
  ) {
    this.enabled = config.get('CRONS_ENABLED', { infer: true }) === 'true';
    this.graceDays = parseGraceDays(config.get('ACCOUNT_DELETION_GRACE_DAYS', { infer: true }));
    ticks.register(CRON.accountDeletion, this.fanOut);
  }

  // `cron` calls this with its own arguments, so the clock is read here, not taken as a parameter.
  @Cron(ACCOUNT_DELETION_SCHEDULE, { name: CRON.accountDeletion, timeZone: 'UTC' })
  async onSchedule(): Promise<void> {
    if (!this.enabled) return;
    await this.runScheduled(new Date());
  }

  /** Catches up the last tick if no worker ran it (once, whichever replica starts first). */
  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    void this.catchUp(new Date());
  }

  runScheduled(now: Date): Promise<CronTickResult> {
    return this.ticks.runScheduled(
      CRON.accountDeletion,
      ACCOUNT_DELETION_SCHEDULE,
      this.fanOut,
      now,
    );
  }

  catchUp(now: Date): Promise<CronTickResult> {
    return this.ticks.catchUp(CRON.accountDeletion, ACCOUNT_DELETION_SCHEDULE, this.fanOut, now);
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
