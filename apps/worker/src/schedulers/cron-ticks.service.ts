import { hostname } from 'node:os';
import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  counterOf,
  CronName,
  CronRunTrigger,
  describeJobError,
  METRICS,
  WorkerEnv,
} from '@subscribernest/shared';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { CronLease, CronRunRepository, TakeoverRules } from './cron-run.repository';
import { previousCronTick } from './cron-schedule';

/**
 * A tick this worker owns while its lease holds: it alone runs it, then records the outcome. A
 * long handler checks `lost` between its steps and stops once another attempt took the tick over.
 */
export class CronClaim {
  private leaseLost = false;

  constructor(
    readonly name: CronName,
    readonly tick: Date,
    readonly lease: CronLease,
  ) {}

  get id(): string {
    return this.lease.id;
  }

  get trigger(): CronRunTrigger {
    return this.lease.trigger;
  }

  get attempt(): number {
    return this.lease.attempt;
  }

  get lost(): boolean {
    return this.leaseLost;
  }

  markLost(): void {
    this.leaseLost = true;
  }
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
  /** The lease lapsed and another attempt took the tick over; this one recorded nothing. */
  | { status: 'lost'; claim: CronClaim }
  /** Another replica (or an earlier run) owns the tick, so this one did nothing. */
  | { status: 'not-claimed'; name: CronName; tick: Date }
  /** The claim itself could not be made (database down), or the worker is shutting down. */
  | { status: 'skipped'; name: CronName; tick: Date; reason: string };

/**
 * `@Cron` fires on the tick or a hair after it (timer granularity), so the scheduled run looks up
 * the tick at most this far ahead of its clock. Crons here are minutes to months apart.
 */
const FIRE_TOLERANCE_MS = 1_000;

/** Ticks one recovery check re-runs; the next check takes the rest. */
const RECOVERY_BATCH = 20;

/** What one recovery check did. */
export interface CronRecoveryRound {
  found: number;
  results: CronTickResult[];
}

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
 * `failed`, so no cron can crash the process.
 *
 * A claim is a lease (CRON_LEASE_MS), renewed every third of it while the handler runs. A tick
 * whose worker died mid-run (lease lapsed) or that failed (after CRON_RETRY_DELAY_MS, up to
 * CRON_MAX_ATTEMPTS) is claimed again by `recover()`, with the handler the scheduler registered;
 * the attempt that lost its lease records nothing, since its writes name its lease token. Handlers
 * must therefore be safe to run twice on one tick (deterministic job ids, conditional inserts).
 */
@Injectable()
export class CronTicksService implements BeforeApplicationShutdown {
  private readonly claimedBy = `${hostname()}:${process.pid}`;
  private readonly inFlight = new Set<Promise<CronTickResult>>();
  private readonly ticksCounted = counterOf(METRICS.cronTicks);
  private readonly handlers = new Map<CronName, CronTickHandler>();
  private readonly leaseMs: number;
  private readonly rules: TakeoverRules;
  private closing = false;

  constructor(
    private readonly runs: CronRunRepository,
    config: ConfigService<WorkerEnv, true>,
    @InjectPinoLogger(CronTicksService.name) private readonly logger: PinoLogger,
  ) {
    this.leaseMs = config.get('CRON_LEASE_MS', { infer: true });
    this.rules = {
      maxAttempts: config.get('CRON_MAX_ATTEMPTS', { infer: true }),
      retryDelayMs: config.get('CRON_RETRY_DELAY_MS', { infer: true }),
    };
  }

  /**
   * Names the handler that runs `name`'s ticks when they are re-run (recovery, an admin's re-run):
   * each scheduler registers the function it passes to `runScheduled`, once.
   */
  register(name: CronName, handler: CronTickHandler): void {
    if (this.handlers.has(name)) throw new Error(`cron "${name}" registered twice`);
    this.handlers.set(name, handler);
  }

  /** The registered handler of `name`, or undefined when no scheduler in this worker runs it. */
  handlerOf(name: string): CronTickHandler | undefined {
    return this.handlers.get(name as CronName);
  }

  /**
   * Why a long handler must stop before its next step (the worker is shutting down, or another
   * attempt took the tick's lease), or null to carry on.
   */
  stopReason(claim: CronClaim): string | null {
    if (this.closing) return 'worker shutting down';
    return claim.lost ? 'lease lost to another attempt' : null;
  }

  /**
   * Claims (name, tick): a new tick, or one whose last attempt died or failed and is due again (or
   * any failed one with `force`). Null when another replica, or an earlier run, owns or finished it.
   */
  async claim(
    name: CronName,
    tick: Date,
    trigger: CronRunTrigger = 'schedule',
    { force = false }: { force?: boolean } = {},
  ): Promise<CronClaim | null> {
    const lease = await this.runs.claim(name, tick, trigger, this.claimedBy, this.leaseMs, {
      ...this.rules,
      force,
    });
    return lease ? new CronClaim(name, tick, lease) : null;
  }

  /** False when the lease was lost: another attempt owns the tick and records its outcome. */
  complete(claim: CronClaim, outcome: CronTickOutcome): Promise<boolean> {
    return this.runs.complete(claim.lease, outcome);
  }

  fail(claim: CronClaim, error: unknown): Promise<boolean> {
    return this.runs.fail(claim.lease, describeJobError(error));
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
    options: { force?: boolean } = {},
  ): Promise<CronTickResult> {
    const run = this.claimAndRun(name, tick, trigger, handler, options);
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
    return run;
  }

  /**
   * Runs again, each with its registered handler, the ticks whose worker died mid-run (lease
   * lapsed) and the failed ones due another attempt. Called on start-up and on an interval by
   * CronTickRecoveryScheduler; concurrent checks on several replicas are safe (the claim decides).
   */
  async recover(): Promise<CronRecoveryRound> {
    const due = await this.runs.findRecoverable(this.rules, RECOVERY_BATCH);
    const results: CronTickResult[] = [];
    for (const tick of due) {
      if (this.closing) break;
      const handler = this.handlerOf(tick.name);
      if (!handler) {
        this.logger.warn(
          { cron: tick.name, cronRunId: tick.id, tick: tick.tick.toISOString() },
          'cron tick needs another attempt, but no scheduler in this worker runs it',
        );
        continue;
      }
      this.logger.warn(
        {
          cron: tick.name,
          cronRunId: tick.id,
          tick: tick.tick.toISOString(),
          status: tick.status,
          attempts: tick.attempts,
        },
        tick.status === 'running'
          ? 'cron tick lost its worker (lease lapsed): running it again'
          : 'cron tick failed: running it again',
      );
      results.push(await this.runTick(tick.name as CronName, tick.tick, tick.trigger, handler));
    }
    return { found: due.length, results };
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
    options: { force?: boolean },
  ): Promise<CronTickResult> {
    const fields = { cron: name, tick: tick.toISOString(), trigger };
    if (this.closing) {
      this.logger.info(fields, 'cron tick not run: the worker is shutting down');
      return { status: 'skipped', name, tick, reason: 'shutting down' };
    }
    let claim: CronClaim | null;
    try {
      claim = await this.claim(name, tick, trigger, options);
    } catch (error) {
      const reason = describeJobError(error);
      this.logger.error({ ...fields, error: reason }, 'cron tick not run: could not claim it');
      return { status: 'skipped', name, tick, reason };
    }
    if (!claim) {
      this.ticksCounted.inc({ cron: name, result: 'not_claimed' });
      this.logger.info(fields, 'cron tick already claimed: nothing to do');
      return { status: 'not-claimed', name, tick };
    }
    this.ticksCounted.inc({ cron: name, result: trigger === 'catch-up' ? 'caught_up' : 'claimed' });

    const startedAt = Date.now();
    const logged = {
      ...fields,
      trigger: claim.trigger,
      cronRunId: claim.id,
      attempt: claim.attempt,
    };
    this.logger.info(logged, 'cron tick claimed: running');
    const heartbeat = this.keepLease(claim, logged);
    try {
      const outcome = await handler(claim);
      if (!(await this.complete(claim, outcome))) return this.lost(claim, logged);
      this.ticksCounted.inc({ cron: name, result: 'completed' });
      this.logger.info(
        { ...logged, ...outcome, durationMs: Date.now() - startedAt },
        'cron tick completed',
      );
      return { status: 'completed', claim, outcome };
    } catch (error) {
      const reason = describeJobError(error);
      this.ticksCounted.inc({ cron: name, result: 'failed' });
      this.logger.error(
        { ...logged, error: reason, durationMs: Date.now() - startedAt },
        'cron tick failed',
      );
      const recorded = await this.fail(claim, reason).catch((recordError: unknown) => {
        this.logger.error(
          { ...logged, error: describeJobError(recordError) },
          'could not record the failed cron tick; its lease lapses and it is run again',
        );
        return true;
      });
      if (!recorded) return this.lost(claim, logged);
      return { status: 'failed', claim, error: reason };
    } finally {
      clearInterval(heartbeat);
    }
  }

  /**
   * Renews the lease every third of CRON_LEASE_MS. A renewal that finds the lease gone marks the
   * claim lost; one that fails (Postgres away) is logged, and the lease may lapse meanwhile.
   */
  private keepLease(claim: CronClaim, logged: object): NodeJS.Timeout {
    const timer = setInterval(
      () => {
        void this.runs.heartbeat(claim.lease, this.leaseMs).then(
          (held) => {
            if (held || claim.lost) return;
            claim.markLost();
            this.logger.warn(logged, 'cron tick lease lost: another attempt owns the tick');
          },
          (error: unknown) =>
            this.logger.warn(
              { ...logged, error: describeJobError(error) },
              'cron tick lease not renewed; retrying',
            ),
        );
      },
      Math.max(Math.floor(this.leaseMs / 3), 100),
    );
    timer.unref();
    return timer;
  }

  private lost(claim: CronClaim, logged: object): CronTickResult {
    claim.markLost();
    this.logger.warn(
      logged,
      'cron tick attempt lost its lease: the attempt that owns it records the outcome',
    );
    return { status: 'lost', claim };
  }
}
