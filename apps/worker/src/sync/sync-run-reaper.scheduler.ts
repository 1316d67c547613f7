import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { SchedulerRegistry } from '@nestjs/schedule';
import {
  describeJobError,
  JobProducer,
  QUEUE,
  StaleSyncRun,
  SyncRunLifecycle,
  WorkerEnv,
} from '@subscribernest/shared';
import { JobState } from 'bullmq';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { SerialInterval } from '../schedulers/serial-interval';
import { ownerReasonForDeadJob } from './sync-job-endings';

/** The reaper's interval name in the SchedulerRegistry. */
export const SYNC_REAPER = 'sync-run-reaper';
/** Runs looked at per round; the next round takes the rest. */
export const SYNC_REAPER_BATCH = 200;
/** Job states in which a job will still drive its run. */
const LIVE_STATES = new Set<JobState | 'unknown'>([
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
]);

export interface ReaperRound {
  checked: number;
  failed: number;
  /** Set when another replica held the round, or the round stopped on an error. */
  skipped?: string;
}

/**
 * The sync reaper: every SYNC_REAPER_INTERVAL_MS, on one replica at a time (a transaction-scoped
 * advisory lock held only while the round runs; every write it makes is conditional anyway), it
 * fails the unfinished sync runs that nothing drives any more, saying why in sync-history, and
 * releases their connections:
 *
 * - runs past SYNC_MAX_RUN_DURATION_MS since their first pass (their pass stops at its next page);
 * - runs with no page written for SYNC_STALE_AFTER_MS whose job is gone (removed, trimmed, lost
 *   with a Redis that keeps nothing), failed or completed — unless their event still waits in the
 *   outbox (Redis was down; the sweeper publishes it).
 *
 * A run whose job is waiting, active or delayed (a 429 wait) is alive, however old its heartbeat.
 */
@Injectable()
export class SyncRunReaperScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly interval: SerialInterval<ReaperRound>;
  private readonly intervalMs: number;
  private readonly staleAfterMs: number;
  private readonly maxDurationMs: number;

  constructor(
    private readonly lifecycle: SyncRunLifecycle,
    private readonly dataSource: DataSource,
    private readonly producer: JobProducer,
    schedules: SchedulerRegistry,
    config: ConfigService<WorkerEnv, true>,
    @InjectPinoLogger(SyncRunReaperScheduler.name) private readonly logger: PinoLogger,
  ) {
    this.interval = new SerialInterval(schedules, SYNC_REAPER, () => this.round());
    this.intervalMs = config.get('SYNC_REAPER_INTERVAL_MS', { infer: true });
    this.staleAfterMs = config.get('SYNC_STALE_AFTER_MS', { infer: true });
    this.maxDurationMs = config.get('SYNC_MAX_RUN_DURATION_MS', { infer: true });
  }

  onApplicationBootstrap(): void {
    this.interval.start(this.intervalMs);
    this.logger.info({ intervalMs: this.intervalMs }, 'sync reaper scheduled');
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.interval.stop();
  }

  /** One interval firing: a round, unless one still runs here or the worker is closing. */
  tick(): Promise<ReaperRound | null> {
    return this.interval.tick();
  }

  private async round(): Promise<ReaperRound> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        const [{ locked }] = await manager.query<{ locked: boolean }[]>(
          `SELECT pg_try_advisory_xact_lock(hashtext('sync-run-reaper')) AS locked`,
        );
        if (!locked) return { checked: 0, failed: 0, skipped: 'another replica is reaping' };
        const stale = await this.lifecycle.findStale({
          staleAfterMs: this.staleAfterMs,
          maxDurationMs: this.maxDurationMs,
          limit: SYNC_REAPER_BATCH,
        });
        let failed = 0;
        for (const run of stale) {
          if (this.interval.stopping) break;
          if (await this.reap(run)) failed += 1;
        }
        if (failed > 0) this.logger.warn({ checked: stale.length, failed }, 'sync reaper round');
        return { checked: stale.length, failed };
      });
    } catch (error) {
      const reason = describeJobError(error);
      this.logger.error({ error: reason }, 'sync reaper round failed; the next one retries');
      return { checked: 0, failed: 0, skipped: reason };
    }
  }

  /** Fails `run` when nothing drives it; true when it did. */
  private async reap(run: StaleSyncRun): Promise<boolean> {
    const reason = await this.reasonToFail(run);
    if (!reason) return false;
    const failed = await this.lifecycle.reconcile(run.runId, { reason });
    if (failed) {
      this.logger.warn(
        { syncRunId: run.runId, espConnectionId: run.connectionId, status: run.status, reason },
        'sync run reaped: failed and connection released',
      );
    }
    return failed;
  }

  private async reasonToFail(run: StaleSyncRun): Promise<string | null> {
    if (run.overdue) {
      return `The sync ran longer than the maximum of ${Math.round(this.maxDurationMs / 60_000)} minutes and was stopped; sync again to retry`;
    }
    // Redis unreachable throws (QueueUnavailableError): the round stops, nothing is failed.
    const job = await this.producer.call(
      QUEUE.subscriberSync,
      'reading a sync job',
      async (queue) => {
        const found = await queue.getJob(run.runId);
        return found ? { state: await found.getState(), failedReason: found.failedReason } : null;
      },
    );
    if (!job) {
      if (run.awaitingOutbox) return null;
      return 'The sync was lost: no job was left to run it (it was removed from the queue, or the queue lost it); sync again to retry';
    }
    const state = job.state;
    if (LIVE_STATES.has(state)) return null;
    if (state === 'failed') return ownerReasonForDeadJob(job.failedReason ?? 'failed');
    return `The sync job ended (${state}) without finishing the run; sync again to retry`;
  }
}
