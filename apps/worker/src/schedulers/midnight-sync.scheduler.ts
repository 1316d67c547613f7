import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Cron } from '@nestjs/schedule';
import {
  CRON,
  describeJobError,
  JOB,
  JobProducer,
  SyncRunLifecycle,
  UnfinishedSyncRun,
  WorkerEnv,
} from '@subscribernest/shared';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import {
  CronClaim,
  CronTickHandler,
  CronTickOutcome,
  CronTickResult,
  CronTicksService,
} from './cron-ticks.service';

/** Every day at 00:00 UTC (ARCHITECTURE §5). */
export const MIDNIGHT_SYNC_SCHEDULE = '0 0 * * *';

/** Connections per keyset page: one transaction and one `addBulk` each; memory stays flat. */
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
export class SyncSchedulerService implements OnApplicationBootstrap {
  private readonly enabled: boolean;
  /** What a tick of this cron does, however it was triggered (also registered for re-runs). */
  private readonly fanOut: CronTickHandler = (claim) => this.queueSyncs(claim);

  constructor(
    private readonly ticks: CronTicksService,
    private readonly runs: SyncRunLifecycle,
    private readonly producer: JobProducer,
    config: ConfigService<WorkerEnv, true>,
    @InjectPinoLogger(SyncSchedulerService.name) private readonly logger: PinoLogger,
  ) {
    this.enabled = config.get('CRONS_ENABLED', { infer: true }) === 'true';
    ticks.register(CRON.midnightSync, this.fanOut);
  }

  // `cron` calls this with its own arguments, so the clock is read here, not taken as a parameter.
  @Cron(MIDNIGHT_SYNC_SCHEDULE, { name: CRON.midnightSync, timeZone: 'UTC' })
  async onMidnight(): Promise<void> {
    if (!this.enabled) return;
    await this.runScheduled(new Date());
  }

  /** Catches up last midnight's tick if no worker ran it (once, whichever replica starts first). */
  onApplicationBootstrap(): void {
    if (!this.enabled) {
      this.logger.info({ cron: CRON.midnightSync }, 'crons disabled (CRONS_ENABLED=false)');
      return;
    }
    void this.catchUp(new Date());
  }

  runScheduled(now: Date): Promise<CronTickResult> {
    return this.ticks.runScheduled(CRON.midnightSync, MIDNIGHT_SYNC_SCHEDULE, this.fanOut, now);
  }

  catchUp(now: Date): Promise<CronTickResult> {
    return this.ticks.catchUp(CRON.midnightSync, MIDNIGHT_SYNC_SCHEDULE, this.fanOut, now);
  }

  /** The fan-out of one claimed tick (scheduled, caught up or manual). */
  async queueSyncs(claim: CronClaim): Promise<CronTickOutcome> {
    const outcome: CronTickOutcome = { queued: 0, skipped: 0 };
    let after: string | null = null;
    for (let pageNumber = 1; ; pageNumber++) {
      const stop = this.ticks.stopReason(claim);
      if (stop) {
        throw new Error(`${stop} after ${outcome.queued} queued and ${outcome.skipped} skipped`);
      }
      const page = await this.runs.createScheduledPage(after, MIDNIGHT_SYNC_PAGE_SIZE);
      if (page.connections === 0) break;
      await this.enqueue(page.runs);
      const created = page.runs.filter((run) => run.created).length;
      outcome.queued += created;
      outcome.skipped += page.runs.length - created;
      this.logger.debug(
        { cronRunId: claim.id, page: pageNumber, connections: page.connections, created },
        'midnight sync: page queued',
      );
      if (page.connections < MIDNIGHT_SYNC_PAGE_SIZE) break;
      after = page.lastConnectionId;
    }
    return outcome;
  }

  private async enqueue(runs: UnfinishedSyncRun[]): Promise<void> {
    try {
      await this.producer.addBulk(
        JOB.syncPublication,
        runs.map((run) => ({
          data: {
            espConnectionId: run.espConnectionId,
            syncRunId: run.syncRunId,
            trigger: run.trigger,
          },
          jobId: run.syncRunId,
        })),
      );
    } catch (error) {
      const reason = `could not be queued: ${describeJobError(error)}`;
      const created = runs.filter((run) => run.created).map((run) => run.syncRunId);
      await this.runs.reconcileUnqueued(created, { reason: `Scheduled sync ${reason}` });
      throw new Error(`midnight sync jobs ${reason}`);
    }
  }
}
