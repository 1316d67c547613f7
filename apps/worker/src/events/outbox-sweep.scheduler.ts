import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { SchedulerRegistry } from '@nestjs/schedule';
import {
  CRON,
  describeJobError,
  OutboxMessage,
  OutboxRelayService,
  WorkerEnv,
} from '@subscribernest/shared';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { EntityManager } from 'typeorm';
import { SerialInterval } from '../schedulers/serial-interval';
import { OutboxEventRepository } from './outbox-event.repository';

/** Rows locked and published per transaction. */
export const OUTBOX_SWEEP_BATCH_SIZE = 50;
/** At most this many batches per tick: bounded work, the next tick takes the rest. */
export const OUTBOX_SWEEP_MAX_BATCHES = 10;
/** Rows younger than this are left to the api's fast path, which publishes right after commit. */
export const OUTBOX_SWEEP_MIN_AGE_MS = 2_000;

/** What one sweep did. */
export interface OutboxSweepResult {
  published: number;
  failed: number;
  /** Set when the sweep stopped on an error of its own (database down). */
  error?: string;
}

interface BatchOutcome {
  locked: number;
  published: number;
  failedIds: string[];
}

/**
 * The outbox sweeper (ARCHITECTURE §4): publishes the `outbox_events` rows the api's fast path
 * missed (Redis down, api killed right after the commit), so an accepted request is never lost.
 * Each tick locks small batches with `FOR UPDATE SKIP LOCKED`, least-tried then oldest first, and
 * publishes them through the shared OutboxRelayService inside that transaction (job id = event id,
 * so a row published twice, by the api and a sweep, still makes one job). Replicas sweep disjoint
 * rows. Failures are recorded on the row (`publish_attempts`, `last_error`) by the relay; the
 * sweep stops at the first batch with a failure (Redis is likely down: the next tick retries).
 *
 * Interval `CRON.outboxSweep`, every OUTBOX_SWEEP_INTERVAL_MS (a SerialInterval: starts once every
 * module is initialised, never overlaps itself on one replica, and on shutdown stops and waits for
 * a running sweep, like QueueWorkersService's drain, in the same `beforeApplicationShutdown`
 * phase). A sweep never throws: errors are logged and the worker keeps running.
 */
@Injectable()
export class OutboxSweepScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly interval: SerialInterval<OutboxSweepResult>;

  constructor(
    private readonly outbox: OutboxEventRepository,
    private readonly relay: OutboxRelayService,
    schedules: SchedulerRegistry,
    private readonly config: ConfigService<WorkerEnv, true>,
    @InjectPinoLogger(OutboxSweepScheduler.name) private readonly logger: PinoLogger,
  ) {
    this.interval = new SerialInterval(schedules, CRON.outboxSweep, () => this.sweep());
  }

  onApplicationBootstrap(): void {
    const intervalMs = this.config.get('OUTBOX_SWEEP_INTERVAL_MS', { infer: true });
    this.interval.start(intervalMs);
    this.logger.info({ cron: CRON.outboxSweep, intervalMs }, 'outbox sweep scheduled');
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.interval.stop();
  }

  /**
   * One interval firing: a sweep, unless one is still running on this replica or the worker is
   * shutting down (then null).
   */
  tick(): Promise<OutboxSweepResult | null> {
    return this.interval.tick();
  }

  /** Publishes up to OUTBOX_SWEEP_MAX_BATCHES batches of pending rows. Never throws. */
  async sweep(): Promise<OutboxSweepResult> {
    const result: OutboxSweepResult = { published: 0, failed: 0 };
    try {
      for (let batch = 0; batch < OUTBOX_SWEEP_MAX_BATCHES && !this.interval.stopping; batch++) {
        const outcome = await this.outbox.withPendingBatch(
          OUTBOX_SWEEP_BATCH_SIZE,
          OUTBOX_SWEEP_MIN_AGE_MS,
          (rows, manager) => this.publishBatch(rows, manager),
        );
        result.published += outcome.published;
        result.failed += outcome.failedIds.length;
        if (outcome.failedIds.length > 0) {
          this.logger.warn(
            { cron: CRON.outboxSweep, eventIds: outcome.failedIds },
            'outbox events not published: they stay pending for the next sweep',
          );
          break;
        }
        if (outcome.locked < OUTBOX_SWEEP_BATCH_SIZE) break;
      }
    } catch (error) {
      result.error = describeJobError(error);
      this.logger.error({ cron: CRON.outboxSweep, ...result }, 'outbox sweep failed');
      return result;
    }
    if (result.published > 0 || result.failed > 0) {
      this.logger.info({ cron: CRON.outboxSweep, ...result }, 'outbox swept');
    }
    return result;
  }

  /**
   * Adds the locked rows' events to Redis together (each add is bounded by the relay's timeout, so
   * a batch holds its locks for seconds at most even with Redis down), then marks each row, or
   * records its failure, in the batch's transaction: one connection, so one update at a time.
   */
  private async publishBatch(rows: OutboxMessage[], manager: EntityManager): Promise<BatchOutcome> {
    const failures = await Promise.all(rows.map((row) => this.relay.enqueue(row)));
    const published: boolean[] = [];
    for (const [index, row] of rows.entries()) {
      published.push(await this.relay.record(row, failures[index], manager));
    }
    return {
      locked: rows.length,
      published: published.filter(Boolean).length,
      failedIds: rows.filter((_, index) => !published[index]).map((row) => row.id),
    };
  }
}
