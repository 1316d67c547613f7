import { hostname } from 'node:os';
import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { CronName, CronRunTrigger } from '@subscribernest/shared';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { describeJobError } from '../ops/job-error';
import { CronRunRepository } from './cron-run.repository';
import { previousCronTick } from './cron-schedule';

/** A tick this worker owns: it alone runs it, then records the outcome. */
export interface CronClaim {
  id: string;
  name: CronName;
  tick: Date;
  trigger: CronRunTrigger;
}

/** What a tick did, recorded in `cron_runs` and logged. */
export interface CronTickOutcome {
  queued: number;
  skipped: number;
}

export type CronTickHandler = (claim: CronClaim) => Promise<CronTickOutcome>;

export type CronTickResult =
  | { status: 'completed'; claim: CronClaim; outcome: CronTickOutcome }
  | { status: 'failed'; claim: CronClaim; error: string }
  /** Another replica (or an earlier run) owns the tick, so this one did nothing. */
  | { status: 'not-claimed'; name: CronName; tick: Date }
  /** The claim itself could not be made (database down), or the worker is shutting down. */
  | { status: 'skipped'; name: CronName; tick: Date; reason: string };

/**
 * `@Cron` fires on the tick or a hair after it (timer granularity), so the scheduled run looks up
 * the tick at most this far ahead of its clock. Crons here are minutes to months apart.
 */
const FIRE_TOLERANCE_MS = 1_000;

/**
 * The one reusable piece behind every cron (midnight sync, monthly billing, account deletion): the
 * `cron_runs` claim that makes a tick run once across any number of replicas, the catch-up of a tick
 * missed while no worker ran, and the record of what each tick did. A scheduler stays a few lines:
 *
 * ```ts
 * @Cron(MIDNIGHT_SYNC, { name: CRON.midnightSync, timeZone: 'UTC' })
 * tick() { return this.ticks.runScheduled(CRON.midnightSync, MIDNIGHT_SYNC, (claim) => this.fanOut(claim)); }
 * onApplicationBootstrap() { void this.ticks.catchUp(CRON.midnightSync, MIDNIGHT_SYNC, (claim) => this.fanOut(claim)); }
 * ```
 *
 * `runTick`, `runScheduled` and `catchUp` never throw: a failing handler is logged and recorded as
 * `failed`, so no cron can crash the process. `claim`/`complete`/`fail` are there for a scheduler
 * that needs the steps one by one.
 */
@Injectable()
export class CronTicksService implements BeforeApplicationShutdown {
  private readonly claimedBy = `${hostname()}:${process.pid}`;
  private readonly inFlight = new Set<Promise<CronTickResult>>();
  private closing = false;

  constructor(
    private readonly runs: CronRunRepository,
    @InjectPinoLogger(CronTicksService.name) private readonly logger: PinoLogger,
  ) {}

  /** True once the worker is shutting down: a long handler stops between its steps. */
  get shuttingDown(): boolean {
    return this.closing;
  }

  /** Claims (name, tick); null when another replica, or an earlier run, already owns it. */
  async claim(
    name: CronName,
    tick: Date,
    trigger: CronRunTrigger = 'schedule',
  ): Promise<CronClaim | null> {
    const id = await this.runs.claim(name, tick, trigger, this.claimedBy);
    return id ? { id, name, tick, trigger } : null;
  }

  complete(claim: CronClaim, outcome: CronTickOutcome): Promise<void> {
    return this.runs.complete(claim.id, outcome);
  }

  fail(claim: CronClaim, error: unknown): Promise<void> {
    return this.runs.fail(claim.id, describeJobError(error));
  }

  /** The tick a `@Cron` firing now stands for: the schedule's most recent instant. */
  scheduledTick(expression: string, now: Date = new Date()): Date {
    return previousCronTick(expression, new Date(now.getTime() + FIRE_TOLERANCE_MS));
  }

  /** For the `@Cron` method: claims the tick that is firing and runs it. */
  runScheduled(
    name: CronName,
    expression: string,
    handler: CronTickHandler,
    now: Date = new Date(),
  ): Promise<CronTickResult> {
    return this.runTick(name, this.scheduledTick(expression, now), 'schedule', handler);
  }

  /**
   * For start-up: runs the schedule's most recent tick if no worker ran it (no `cron_runs` row),
   * once: the claim makes a second catch-up, or a replica starting at the same time, do nothing.
   * Only the latest missed tick runs, not every one since the last run.
   */
  catchUp(
    name: CronName,
    expression: string,
    handler: CronTickHandler,
    now: Date = new Date(),
  ): Promise<CronTickResult> {
    return this.runTick(name, previousCronTick(expression, now), 'catch-up', handler);
  }

  /** Claims (name, tick), runs the handler if the claim is ours, records the outcome. Never throws. */
  runTick(
    name: CronName,
    tick: Date,
    trigger: CronRunTrigger,
    handler: CronTickHandler,
  ): Promise<CronTickResult> {
    const run = this.claimAndRun(name, tick, trigger, handler);
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
    return run;
  }

  /** Lets running ticks record their outcome before the database connection closes. */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async claimAndRun(
    name: CronName,
    tick: Date,
    trigger: CronRunTrigger,
    handler: CronTickHandler,
  ): Promise<CronTickResult> {
    const fields = { cron: name, tick: tick.toISOString(), trigger };
    if (this.closing) {
      this.logger.info(fields, 'cron tick not run: the worker is shutting down');
      return { status: 'skipped', name, tick, reason: 'shutting down' };
    }
    let claim: CronClaim | null;
    try {
      claim = await this.claim(name, tick, trigger);
    } catch (error) {
      const reason = describeJobError(error);
      this.logger.error({ ...fields, error: reason }, 'cron tick not run: could not claim it');
      return { status: 'skipped', name, tick, reason };
    }
    if (!claim) {
      this.logger.info(fields, 'cron tick already claimed: nothing to do');
      return { status: 'not-claimed', name, tick };
    }

    const startedAt = Date.now();
    this.logger.info({ ...fields, cronRunId: claim.id }, 'cron tick claimed: running');
    try {
      const outcome = await handler(claim);
      await this.complete(claim, outcome);
      this.logger.info(
        { ...fields, cronRunId: claim.id, ...outcome, durationMs: Date.now() - startedAt },
        'cron tick completed',
      );
      return { status: 'completed', claim, outcome };
    } catch (error) {
      const reason = describeJobError(error);
      this.logger.error(
        { ...fields, cronRunId: claim.id, error: reason, durationMs: Date.now() - startedAt },
        'cron tick failed',
      );
      await this.fail(claim, reason).catch((recordError: unknown) => {
        this.logger.error(
          { ...fields, cronRunId: claim.id, error: describeJobError(recordError) },
          'could not record the failed cron tick',
        );
      });
      return { status: 'failed', claim, error: reason };
    }
  }
}
