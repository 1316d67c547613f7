import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import {
  CronName,
  isManualCron,
  JOB,
  MANUAL_CRONS,
  manualTickOf,
  PayloadOf,
} from '@subscribernest/shared';
import { UnrecoverableError } from 'bullmq';
import { CronRunRepository } from './cron-run.repository';
import { CronTickHandler, CronTickResult, CronTicksService } from './cron-ticks.service';

/**
 * Cron ticks an admin asked for:
 *
 * - `run-cron` (`POST /admin/schedulers/:name/run`): the tick is the minute of the request,
 *   claimed as `manual` in `cron_runs`, so a request delivered twice runs once; the scheduled
 *   ticks are untouched.
 * - `rerun-cron-tick` (`POST /admin/cron-runs/:id/rerun`): one existing tick again, failed
 *   (however many attempts it had) or left `running` by a dead worker; never one that completed or
 *   that a live worker holds.
 *
 * Each runs the handler its scheduler registered with CronTicksService.
 */
@Injectable()
export class ManualCronTicksService implements OnApplicationBootstrap {
  constructor(
    private readonly ticks: CronTicksService,
    private readonly runs: CronRunRepository,
  ) {}

  /** Refuses to start when a cron admins may run has no scheduler in this worker. */
  onApplicationBootstrap(): void {
    const missing = MANUAL_CRONS.filter((name) => !this.ticks.handlerOf(name));
    if (missing.length > 0) {
      throw new Error(`manual crons with no scheduler registered: ${missing.join(', ')}`);
    }
  }

  /** Fails the job (never retried: the admin can ask again) when the tick fails or cannot run. */
  async run(request: PayloadOf<typeof JOB.runCron>): Promise<CronTickResult> {
    const name: string = request.name;
    if (!isManualCron(name)) throw new UnrecoverableError(`"${name}" cannot be run by hand`);
    const requestedAt = new Date(request.requestedAt);
    if (Number.isNaN(requestedAt.getTime())) {
      throw new UnrecoverableError(`requestedAt "${request.requestedAt}" is not a date`);
    }
    return this.outcome(
      await this.ticks.runTick(name, manualTickOf(requestedAt), 'manual', this.handlerOf(name)),
    );
  }

  async rerun(request: PayloadOf<typeof JOB.rerunCronTick>): Promise<CronTickResult> {
    const row = await this.runs.findById(request.cronRunId);
    if (!row) throw new UnrecoverableError(`no cron run ${request.cronRunId}`);
    const handler = this.handlerOf(row.name);
    const result = await this.ticks.runTick(row.name as CronName, row.tick, row.trigger, handler, {
      force: true,
    });
    if (result.status === 'not-claimed') {
      const now = await this.runs.findById(row.id);
      throw new UnrecoverableError(
        `cron run ${row.id} was not re-run: it is ${now?.status ?? 'gone'}` +
          (now?.status === 'running' ? ' and its worker still holds it' : ''),
      );
    }
    return this.outcome(result);
  }

  private handlerOf(name: string): CronTickHandler {
    const handler = this.ticks.handlerOf(name);
    if (!handler) throw new UnrecoverableError(`no scheduler in this worker runs "${name}"`);
    return handler;
  }

  private outcome(result: CronTickResult): CronTickResult {
    if (result.status === 'failed') throw new UnrecoverableError(result.error);
    if (result.status === 'skipped') throw new UnrecoverableError(result.reason);
    return result;
  }
}
