import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Cron } from '@nestjs/schedule';
import {
  CRON,
  describeJobError,
  isBillingEnabled,
  JOB,
  JobProducer,
  ScheduledRunsPage,
  SyncRunLifecycle,
  UnfinishedSyncRun,
  WorkerEnv,
} from '@subscribernest/shared';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { ClaimedCron } from './claimed-cron';
import { CronClaim, CronTickOutcome, CronTicksService } from './cron-ticks.service';

/** Every day at 00:00 UTC (ARCHITECTURE §5). */
export const MIDNIGHT_SYNC_SCHEDULE = '0 0 * * *';

/** Connections per keyset page: one statement and one `addBulk` each; memory stays flat. */
export const MIDNIGHT_SYNC_PAGE_SIZE = 1_000;

/**
 * The midnight sync: at 00:00 UTC, one `sync-publication` job for every `active` connection.
 *
 * The tick is claimed in `cron_runs` first (CronTicksService), so of any number of replicas firing
 * it one does the work. The fan-out pages through active connections by id, creates their
 * `scheduled` sync runs in bulk and enqueues them with `addBulk`, job id = sync run id. A
 * connection whose sync is already queued or running gets no new run (it counts as skipped), but
 * its run's job is added again under the same id: BullMQ ignores that when the job exists, and when
 * it does not (a process killed between a commit and its enqueue) that is what puts it back.
 */
@Injectable()
export class SyncSchedulerService extends ClaimedCron {
  /** Billing is enabled: users without an entitled subscription are not synced (counted skipped). */
  private readonly requireSubscription: boolean;

  constructor(
    ticks: CronTicksService,
    private readonly runs: SyncRunLifecycle,
    private readonly producer: JobProducer,
    config: ConfigService<WorkerEnv, true>,
    @InjectPinoLogger(SyncSchedulerService.name) logger: PinoLogger,
  ) {
    super(ticks, CRON.midnightSync, MIDNIGHT_SYNC_SCHEDULE, config, logger);
    this.requireSubscription = isBillingEnabled({
      STRIPE_SECRET_KEY: config.get('STRIPE_SECRET_KEY', { infer: true }),
    });
  }

  @Cron(MIDNIGHT_SYNC_SCHEDULE, { name: CRON.midnightSync, timeZone: 'UTC' })
  onMidnight(): Promise<void> {
    return this.fire();
  }

  protected runTick(claim: CronClaim): Promise<CronTickOutcome> {
    return this.queueSyncs(claim);
  }

  /**
   * The fan-out of one claimed tick (scheduled, caught up or manual). Page k+1's statement runs
   * while page k's `addBulk` does (Postgres and Redis work side by side), one page ahead at most,
   * so memory stays at two pages.
   */
  async queueSyncs(claim: CronClaim): Promise<CronTickOutcome> {
    const outcome: CronTickOutcome = { queued: 0, skipped: 0 };
    let unsubscribed = 0;
    let pending: Promise<ScheduledRunsPage> | null = this.createPage(null, claim);
    for (let pageNumber = 1; pending !== null; pageNumber++) {
      const page: ScheduledRunsPage = await pending;
      pending = null;
      if (page.connections === 0) break;
      // A lost lease or a shutdown stops the tick before it writes another page.
      const stop = this.ticks.stopReason(claim);
      if (page.connections === MIDNIGHT_SYNC_PAGE_SIZE && !stop) {
        pending = this.createPage(page.lastConnectionId, claim);
        // Observed here; awaited below (or reconciled, if this page cannot be queued).
        pending.catch(() => undefined);
      }
      if (page.runs.length > 0) await this.enqueue(page.runs, claim.id, pending);
      const created = page.runs.filter((run) => run.created).length;
      outcome.queued += created;
      outcome.skipped += page.runs.length - created + page.unsubscribed;
      unsubscribed += page.unsubscribed;
      this.logger.debug(
        {
          cronRunId: claim.id,
          page: pageNumber,
          connections: page.connections,
          created,
          unsubscribed: page.unsubscribed,
        },
        'midnight sync: page queued',
      );
      if (stop && page.connections === MIDNIGHT_SYNC_PAGE_SIZE) {
        throw new Error(`${stop} after ${outcome.queued} queued and ${outcome.skipped} skipped`);
      }
    }
    if (unsubscribed > 0) {
      this.logger.info(
        { cronRunId: claim.id, unsubscribed },
        'midnight sync: connections of users without a subscription skipped',
      );
    }
    return outcome;
  }

  private createPage(after: string | null, claim: CronClaim): Promise<ScheduledRunsPage> {
    return this.runs.createScheduledPage(after, MIDNIGHT_SYNC_PAGE_SIZE, {
      requireSubscription: this.requireSubscription,
      correlationId: claim.id,
    });
  }

  /**
   * `correlationId`: the tick's `cron_runs` id, on every log line of the syncs it caused. When the
   * jobs cannot be added, this page's new runs fail saying why, and so do those of the page being
   * written meanwhile (`next`), which would otherwise wait for a job until the reaper found them.
   */
  private async enqueue(
    runs: UnfinishedSyncRun[],
    correlationId: string,
    next: Promise<ScheduledRunsPage> | null,
  ): Promise<void> {
    try {
      await this.producer.addBulk(
        JOB.syncPublication,
        runs.map((run) => ({
          data: {
            espConnectionId: run.espConnectionId,
            syncRunId: run.syncRunId,
            trigger: run.trigger,
            correlationId,
          },
          jobId: run.syncRunId,
        })),
      );
    } catch (error) {
      const reason = `could not be queued: ${describeJobError(error)}`;
      const written = next ? await next.then((page) => page.runs).catch(() => []) : [];
      const created = [...runs, ...written]
        .filter((run) => run.created)
        .map((run) => run.syncRunId);
      await this.runs.reconcileUnqueued(created, { reason: `Scheduled sync ${reason}` });
      throw new Error(`midnight sync jobs ${reason}`);
    }
  }
}
