import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Cron } from '@nestjs/schedule';
import {
  closePeriodJobId,
  CRON,
  JOB,
  JobProducer,
  previousBillingMonth,
  WorkerEnv,
} from '@subscribernest/shared';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { ClaimedCron } from '../schedulers/claimed-cron';
import { CronClaim, CronTickOutcome, CronTicksService } from '../schedulers/cron-ticks.service';
import { BillingPeriodRepository } from './billing-period.repository';

/** 01:00 UTC on the first of every month (ARCHITECTURE §5): the month before is complete. */
export const MONTHLY_BILLING_SCHEDULE = '0 1 1 * *';

/** Users per keyset page: one query and one `addBulk` each; memory stays flat. */
export const MONTHLY_BILLING_PAGE_SIZE = 1_000;

/**
 * The monthly-billing cron: at 01:00 UTC on the 1st, one `close-period` job for every user with
 * something to bill in the month that just ended (the month before the tick, so a tick caught up
 * or re-run days later still closes the month it stands for).
 *
 * The tick is claimed, caught up and re-run like every cron's (ClaimedCron; by hand:
 * `POST /admin/schedulers/monthly-billing/run`). Users are read in keyset pages and enqueued with
 * `addBulk`, job id = user and month (closePeriodJobId), so a re-run adds nothing twice; the
 * processor is idempotent per user and month besides.
 */
@Injectable()
export class MonthlyBillingScheduler extends ClaimedCron {
  constructor(
    ticks: CronTicksService,
    private readonly periods: BillingPeriodRepository,
    private readonly producer: JobProducer,
    config: ConfigService<WorkerEnv, true>,
    @InjectPinoLogger(MonthlyBillingScheduler.name) logger: PinoLogger,
  ) {
    super(ticks, CRON.monthlyBilling, MONTHLY_BILLING_SCHEDULE, config, logger);
  }

  @Cron(MONTHLY_BILLING_SCHEDULE, { name: CRON.monthlyBilling, timeZone: 'UTC' })
  onSchedule(): Promise<void> {
    return this.fire();
  }

  protected runTick(claim: CronClaim): Promise<CronTickOutcome> {
    return this.queuePeriods(claim);
  }

  /** The fan-out of one claimed tick (scheduled, caught up or manual). */
  async queuePeriods(claim: CronClaim): Promise<CronTickOutcome> {
    const month = previousBillingMonth(claim.tick);
    const outcome: CronTickOutcome = { queued: 0, skipped: 0 };
    let after: string | null = null;
    for (;;) {
      const stop = this.ticks.stopReason(claim);
      if (stop) throw new Error(`${stop} after ${outcome.queued} periods queued`);
      const users = await this.periods.billableUsersAfter(after, MONTHLY_BILLING_PAGE_SIZE, month);
      if (users.length === 0) break;
      await this.producer.addBulk(
        JOB.closePeriod,
        users.map((userId) => ({
          data: { userId, periodStart: month.startDay },
          jobId: closePeriodJobId(userId, month.startDay),
        })),
      );
      outcome.queued += users.length;
      if (users.length < MONTHLY_BILLING_PAGE_SIZE) break;
      after = users[users.length - 1];
    }
    this.logger.info(
      { cronRunId: claim.id, periodStart: month.startDay, queued: outcome.queued },
      'monthly billing: periods queued',
    );
    return outcome;
  }
}
