import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Cron } from '@nestjs/schedule';
import { CRON, WorkerEnv } from '@subscribernest/shared';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { ClaimedCron } from '../schedulers/claimed-cron';
import { CronClaim, CronTickOutcome, CronTicksService } from '../schedulers/cron-ticks.service';
import { RETENTION_TABLES, RetentionRepository, RetentionTable } from './retention.repository';

/** Every day at 03:30 UTC: after the midnight sync, clear of the 03:00 account deletion. */
export const DATA_RETENTION_SCHEDULE = '30 3 * * *';

/** The setting that holds each table's retention in days. */
const RETENTION_SETTING = {
  login_codes: 'RETENTION_LOGIN_CODES_DAYS',
  sessions: 'RETENTION_SESSIONS_DAYS',
  outbox_events: 'RETENTION_OUTBOX_DAYS',
  job_runs: 'RETENTION_JOB_RUNS_DAYS',
  cron_runs: 'RETENTION_CRON_RUNS_DAYS',
  admin_actions: 'RETENTION_ADMIN_ACTIONS_DAYS',
  stripe_webhook_events: 'RETENTION_STRIPE_EVENTS_DAYS',
} as const satisfies Record<RetentionTable, keyof WorkerEnv>;

/**
 * What a retention tick did. `cron_runs` records the rows deleted (all tables) as its
 * `queued_count`; the per-table counts and the ciphertexts cleared are in the log lines.
 */
export interface RetentionOutcome extends CronTickOutcome {
  deleted: Record<RetentionTable, number>;
  ciphertextsCleared: number;
}

/**
 * The data-retention cron: once a day, clears the ciphertext of every expired login code, then
 * deletes from each table (login_codes, sessions, outbox_events, job_runs, cron_runs,
 * admin_actions, stripe_webhook_events) the rows in a final state older than its retention (RETENTION_*_DAYS).
 *
 * The tick is claimed, caught up and re-run like every cron's (ClaimedCron; by hand:
 * `POST /admin/schedulers/data-retention/run`). Work goes in batches of
 * RETENTION_BATCH_SIZE rows, one short statement each; between batches the tick stops if its
 * lease was lost or the worker is shutting down (a later attempt carries on: deleting what is
 * already gone is harmless).
 */
@Injectable()
export class DataRetentionScheduler extends ClaimedCron {
  private readonly batchSize: number;
  private readonly days: Record<RetentionTable, number>;

  constructor(
    ticks: CronTicksService,
    private readonly retention: RetentionRepository,
    config: ConfigService<WorkerEnv, true>,
    @InjectPinoLogger(DataRetentionScheduler.name) logger: PinoLogger,
  ) {
    super(ticks, CRON.dataRetention, DATA_RETENTION_SCHEDULE, config, logger);
    this.batchSize = config.get('RETENTION_BATCH_SIZE', { infer: true });
    this.days = Object.fromEntries(
      RETENTION_TABLES.map((table) => [
        table,
        config.get(RETENTION_SETTING[table], { infer: true }),
      ]),
    ) as Record<RetentionTable, number>;
  }

  @Cron(DATA_RETENTION_SCHEDULE, { name: CRON.dataRetention, timeZone: 'UTC' })
  onSchedule(): Promise<void> {
    return this.fire();
  }

  protected runTick(claim: CronClaim): Promise<RetentionOutcome> {
    return this.pruneAll(claim);
  }

  /** One claimed tick (scheduled, caught up or manual): every prune, batch by batch. */
  async pruneAll(claim: CronClaim): Promise<RetentionOutcome> {
    const outcome: RetentionOutcome = {
      queued: 0,
      skipped: 0,
      ciphertextsCleared: 0,
      deleted: Object.fromEntries(RETENTION_TABLES.map((table) => [table, 0])) as Record<
        RetentionTable,
        number
      >,
    };

    outcome.ciphertextsCleared = await this.inBatches(claim, outcome, 'login_codes', (limit) =>
      this.retention.clearExpiredCiphertexts(limit),
    );
    this.logger.info(
      { cronRunId: claim.id, table: 'login_codes', cleared: outcome.ciphertextsCleared },
      'data retention: ciphertexts of expired login codes cleared',
    );

    for (const table of RETENTION_TABLES) {
      const days = this.days[table];
      const deleted = await this.inBatches(claim, outcome, table, (limit) =>
        this.retention.deleteExpired(table, days, limit),
      );
      outcome.deleted[table] = deleted;
      outcome.queued += deleted;
      this.logger.info(
        { cronRunId: claim.id, table, deleted, retentionDays: days },
        'data retention: table pruned',
      );
    }
    return outcome;
  }

  /** Runs `batch` until one comes back short, stopping between batches when the tick must end. */
  private async inBatches(
    claim: CronClaim,
    outcome: RetentionOutcome,
    table: RetentionTable,
    batch: (limit: number) => Promise<number>,
  ): Promise<number> {
    let total = 0;
    for (;;) {
      const stop = this.ticks.stopReason(claim);
      if (stop) {
        throw new Error(
          `data retention stopped (${stop}) at ${table}, ${total} rows into it, after ` +
            `${outcome.queued} rows deleted and ${outcome.ciphertextsCleared} ciphertexts cleared`,
        );
      }
      const affected = await batch(this.batchSize);
      total += affected;
      if (affected < this.batchSize) return total;
    }
  }
}
