import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { SchedulerRegistry } from '@nestjs/schedule';
import { describeJobError, WorkerEnv } from '@subscribernest/shared';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { CronRecoveryRound, CronTicksService } from './cron-ticks.service';
import { SerialInterval } from './serial-interval';

/** The recovery check's interval name in the SchedulerRegistry. */
export const CRON_TICK_RECOVERY = 'cron-tick-recovery';

/**
 * Re-runs the cron ticks that did not end well: on start-up and every CRON_RECOVERY_INTERVAL_MS,
 * a worker with CRONS_ENABLED claims again each tick whose worker died mid-run (its lease lapsed)
 * and each failed tick due another attempt (CronTicksService.recover). Several replicas checking
 * at once is safe: the claim is one conditional statement.
 */
@Injectable()
export class CronTickRecoveryScheduler
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly interval: SerialInterval<CronRecoveryRound | null>;
  private readonly intervalMs: number;
  private readonly enabled: boolean;

  constructor(
    private readonly ticks: CronTicksService,
    schedules: SchedulerRegistry,
    config: ConfigService<WorkerEnv, true>,
    @InjectPinoLogger(CronTickRecoveryScheduler.name) private readonly logger: PinoLogger,
  ) {
    this.interval = new SerialInterval(schedules, CRON_TICK_RECOVERY, () => this.check());
    this.intervalMs = config.get('CRON_RECOVERY_INTERVAL_MS', { infer: true });
    this.enabled = config.get('CRONS_ENABLED', { infer: true }) === 'true';
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    this.interval.start(this.intervalMs);
    void this.interval.tick();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.interval.stop();
  }

  /** One check: re-runs what is due, unless a check still runs here or the worker is closing. */
  tick(): Promise<CronRecoveryRound | null> {
    return this.interval.tick().then((round) => round ?? null);
  }

  private async check(): Promise<CronRecoveryRound | null> {
    try {
      const round = await this.ticks.recover();
      if (round.found > 0) {
        this.logger.info(
          { found: round.found, results: round.results.map((result) => result.status) },
          'cron tick recovery check',
        );
      }
      return round;
    } catch (error) {
      this.logger.error(
        { error: describeJobError(error) },
        'cron tick recovery check failed; the next one retries',
      );
      return null;
    }
  }
}
