import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { SchedulerRegistry } from '@nestjs/schedule';
import { describeJobError, gaugeOf, JOB_QUEUES, METRICS, WorkerEnv } from '@subscribernest/shared';
import { Queue } from 'bullmq';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { SerialInterval } from '../schedulers/serial-interval';

/** The interval's name in the SchedulerRegistry. */
export const METRICS_SAMPLE = 'metrics-sample';

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/** A Redis that does not answer must not hold the sampler: this sample is skipped instead. */
const SAMPLE_TIMEOUT_MS = 2_000;

/**
 * Samples, every METRICS_SAMPLE_INTERVAL_MS, the gauges read from Redis and Postgres rather than
 * counted as events happen: each queue's depth by state (O(1) counts per state), the outbox's
 * unpublished rows and the age of the oldest, and each cron's newest tick from `cron_runs` (the
 * same answer on every replica, and right after a restart). A scrape of /metrics then reads
 * memory only. A source that fails is logged and its gauges keep their last value.
 */
@Injectable()
export class MetricsSampler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly interval: SerialInterval<void>;
  private readonly queueJobs = gaugeOf(METRICS.queueJobs);
  private readonly outboxUnpublished = gaugeOf(METRICS.outboxUnpublished);
  private readonly outboxOldestAge = gaugeOf(METRICS.outboxOldestAge);
  private readonly cronLastSuccess = gaugeOf(METRICS.cronLastSuccess);
  private readonly cronLastOutcome = gaugeOf(METRICS.cronLastOutcome);

  constructor(
    @Inject(JOB_QUEUES) private readonly queues: Queue[],
    private readonly dataSource: DataSource,
    schedules: SchedulerRegistry,
    private readonly config: ConfigService<WorkerEnv, true>,
    @InjectPinoLogger(MetricsSampler.name) private readonly logger: PinoLogger,
  ) {
    this.interval = new SerialInterval(schedules, METRICS_SAMPLE, () => this.sample());
  }

  onApplicationBootstrap(): void {
    void this.interval.tick();
    this.interval.start(this.config.get('METRICS_SAMPLE_INTERVAL_MS', { infer: true }));
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.interval.stop();
  }

  /** One sample of every source, each on its own: a Redis outage leaves the outbox gauges live. */
  async sample(): Promise<void> {
    await Promise.all([
      this.guard('queues', () => this.sampleQueues()),
      this.guard('outbox', () => this.sampleOutbox()),
      this.guard('crons', () => this.sampleCrons()),
    ]);
  }

  private async sampleQueues(): Promise<void> {
    for (const queue of this.queues) {
      const counts = await withTimeout(queue.getJobCounts(...QUEUE_STATES), SAMPLE_TIMEOUT_MS);
      for (const state of QUEUE_STATES) {
        this.queueJobs.set({ queue: queue.name, state }, counts[state] ?? 0);
      }
    }
  }

  private async sampleOutbox(): Promise<void> {
    const [row] = await this.dataSource.query<{ pending: number; age: number | null }[]>(
      `SELECT count(*)::int AS pending,
              extract(epoch FROM now() - min(created_at))::float8 AS age
         FROM outbox_events WHERE published_at IS NULL`,
    );
    this.outboxUnpublished.set(row.pending);
    this.outboxOldestAge.set(row.age ?? 0);
  }

  private async sampleCrons(): Promise<void> {
    const rows = await this.dataSource.query<
      { name: string; last_success: number | null; newest_completed: boolean }[]
    >(
      `SELECT name,
              extract(epoch FROM max(finished_at) FILTER (WHERE status = 'completed'))::float8
                AS last_success,
              (array_agg(status ORDER BY tick DESC))[1] = 'completed' AS newest_completed
         FROM cron_runs GROUP BY name`,
    );
    for (const row of rows) {
      if (row.last_success !== null) this.cronLastSuccess.set({ cron: row.name }, row.last_success);
      this.cronLastOutcome.set({ cron: row.name }, row.newest_completed ? 1 : 0);
    }
  }

  private async guard(source: string, sample: () => Promise<void>): Promise<void> {
    try {
      await sample();
    } catch (error) {
      this.logger.debug({ source, error: describeJobError(error) }, 'metrics sample skipped');
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
