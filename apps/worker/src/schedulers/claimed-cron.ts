import { OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { CronName, WorkerEnv } from '@subscribernest/shared';
import { PinoLogger } from 'nestjs-pino';
import { CronClaim, CronTickOutcome, CronTickResult, CronTicksService } from './cron-ticks.service';

/**
 * The frame every daily or monthly cron of the worker shares; a scheduler adds its `@Cron` method
 * (which calls `fire()`: the decorator must sit on the concrete class, with the expression in
 * plain sight) and `runTick`, the work of one claimed tick.
 *
 * The tick is claimed in `cron_runs` first (CronTicksService), so of any number of replicas firing
 * it one does the work; the last tick is caught up at start-up if no worker ran it; the handler is
 * registered by name, so the recovery check re-runs a failed or abandoned tick and an admin can
 * run one by hand (`POST /admin/schedulers/:name/run`). With CRONS_ENABLED=false none of it runs.
 */
export abstract class ClaimedCron implements OnApplicationBootstrap {
  protected readonly enabled: boolean;

  protected constructor(
    protected readonly ticks: CronTicksService,
    readonly name: CronName,
    readonly schedule: string,
    config: ConfigService<WorkerEnv, true>,
    protected readonly logger: PinoLogger,
  ) {
    this.enabled = config.get('CRONS_ENABLED', { infer: true }) === 'true';
    ticks.register(name, this.handler);
  }

  /** What one claimed tick does, however it was triggered (scheduled, caught up, re-run, manual). */
  protected abstract runTick(claim: CronClaim): Promise<CronTickOutcome>;

  // An arrow function, so the registered handler keeps `this` and is the same one every time.
  private readonly handler = (claim: CronClaim): Promise<CronTickOutcome> => this.runTick(claim);

  /** The body of the subclass's `@Cron` method: `cron` passes its own arguments, so read the clock. */
  protected async fire(): Promise<void> {
    if (!this.enabled) return;
    await this.runScheduled(new Date());
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) {
      this.logger.info({ cron: this.name }, 'crons disabled (CRONS_ENABLED=false)');
      return;
    }
    void this.catchUp(new Date());
  }

  runScheduled(now: Date): Promise<CronTickResult> {
    return this.ticks.runScheduled(this.name, this.schedule, this.handler, now);
  }

  catchUp(now: Date): Promise<CronTickResult> {
    return this.ticks.catchUp(this.name, this.schedule, this.handler, now);
  }
}
