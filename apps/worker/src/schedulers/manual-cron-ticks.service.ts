import { Injectable } from '@nestjs/common';
import {
  CRON,
  isManualCron,
  ManualCronName,
  manualTickOf,
  PayloadOf,
  JOB,
} from '@subscribernest/shared';
import { UnrecoverableError } from 'bullmq';
import { CronTickHandler, CronTickResult, CronTicksService } from './cron-ticks.service';
import { SyncSchedulerService } from './midnight-sync.scheduler';

/**
 * Runs a cron tick an admin asked for (`POST /admin/schedulers/:name/run` → `run-cron` job). The
 * tick is the minute of the request, claimed as `manual` in `cron_runs`, so a request delivered
 * twice runs once; the scheduled ticks are untouched.
 */
@Injectable()
export class ManualCronTicksService {
  /** Typed by MANUAL_CRONS: a cron made manual in the shared contract needs its handler here. */
  private readonly handlers: Record<ManualCronName, CronTickHandler>;

  constructor(
    private readonly ticks: CronTicksService,
    midnightSync: SyncSchedulerService,
  ) {
    this.handlers = { [CRON.midnightSync]: (claim) => midnightSync.queueSyncs(claim) };
  }

  /** Fails the job (never retried: the admin can ask again) when the tick fails or cannot run. */
  async run(request: PayloadOf<typeof JOB.runCron>): Promise<CronTickResult> {
    const name: string = request.name;
    if (!isManualCron(name)) throw new UnrecoverableError(`"${name}" cannot be run by hand`);
    const requestedAt = new Date(request.requestedAt);
    if (Number.isNaN(requestedAt.getTime())) {
      throw new UnrecoverableError(`requestedAt "${request.requestedAt}" is not a date`);
    }
    const result = await this.ticks.runTick(
      name,
      manualTickOf(requestedAt),
      'manual',
      this.handlers[name],
    );
    if (result.status === 'failed') throw new UnrecoverableError(result.error);
    if (result.status === 'skipped') throw new UnrecoverableError(result.reason);
    return result;
  }
}
