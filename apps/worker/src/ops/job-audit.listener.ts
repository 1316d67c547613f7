import { Injectable } from '@nestjs/common';
import {
  describeJobError,
  InternalJobError,
  JobRunStatus,
  parseTraceparent,
  TraceContext,
} from '@subscribernest/shared';
import { Job, Worker } from 'bullmq';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { JobMetrics } from './job-metrics';
import { JobRunRecord, JobRunRepository } from './job-run.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function userIdOf(job: Job): string | null {
  const data: unknown = job.data;
  if (typeof data !== 'object' || data === null || !('userId' in data)) return null;
  const userId = data.userId;
  return typeof userId === 'string' && UUID.test(userId) ? userId : null;
}

/** The payload's correlation id, when it has a sane one (it is logged and stored). */
export function correlationIdOf(job: Job): string | null {
  const data: unknown = job.data;
  if (typeof data !== 'object' || data === null || !('correlationId' in data)) return null;
  const id = data.correlationId;
  return typeof id === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(id) ? id : null;
}

/** The payload's W3C trace context, when it carries a valid `traceparent` (else none). */
export function traceContextOf(job: Job): TraceContext | null {
  const data: unknown = job.data;
  if (typeof data !== 'object' || data === null || !('traceparent' in data)) return null;
  return parseTraceparent(data.traceparent);
}

function dateOf(epochMs: number | undefined): Date | null {
  return typeof epochMs === 'number' ? new Date(epochMs) : null;
}

/** The last error of an attempt that BullMQ's stalled-job check took away from its worker. */
export const STALLED_REASON =
  'stalled: its worker stopped renewing the job lock (process killed, or event loop blocked) ' +
  'and the job was handed back to the queue';

/**
 * The `job_runs` audit, written in one place for every queue this worker processes: listens to
 * each BullMQ worker's `active`, `completed`, `failed` and `stalled` events (QueueWorkersService
 * attaches it before a worker starts), so no processor writes audit rows by hand.
 *
 * `failed` is `dead` when BullMQ will not retry: attempts used up, or an UnrecoverableError (BullMQ
 * then sets `finishedOn`). `stalled` (this worker's stalled-job check found an active job whose
 * lock had expired, e.g. its worker was SIGKILLed, and moved it back to wait) puts the row back to
 * `queued` with STALLED_REASON as its last error; so does a job handed back on shutdown
 * (JobHandback). A job that puts itself off (JobHandback.delay: a sync waiting out a 429) is
 * `delayed` with when it runs. A job stalled more than BullMQ's limit is failed by the next worker that takes it
 * (`failed`, UnrecoverableError → `dead`).
 */
@Injectable()
export class JobAuditListener {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly runs: JobRunRepository,
    private readonly metrics: JobMetrics,
    @InjectPinoLogger(JobAuditListener.name) private readonly logger: PinoLogger,
  ) {}

  watch(worker: Worker): void {
    worker.on('active', (job: Job) => this.onActive(worker.name, job));
    worker.on('completed', (job: Job) => this.onCompleted(worker.name, job));
    worker.on('failed', (job: Job | undefined, error: Error) => {
      if (job) this.onFailed(worker.name, job, error);
    });
    worker.on('stalled', (jobId: string) => this.handedBack(worker.name, jobId, STALLED_REASON));
  }

  /**
   * Records that the attempt running as `jobId` ended without finishing and the job is waiting
   * again (stalled, or handed back on shutdown): the row goes back to `queued` with the reason.
   */
  handedBack(queue: string, jobId: string, reason: string): void {
    this.logger.warn({ queue, jobId, reason }, 'job handed back to the queue');
    void this.track(this.runs.markHandedBack(queue, jobId, reason), {
      queue,
      jobId,
      status: 'queued',
    });
  }

  /**
   * Records that the attempt running as `jobId` put the job off until `until` (it is `delayed`
   * with when it runs). Awaited before the job moves in Redis, so the next start of the job, even
   * a quick one, is written after it. Never throws: a failed write is logged.
   */
  async delayed(queue: string, jobId: string, until: Date, reason: string): Promise<void> {
    this.logger.info({ queue, jobId, delayedUntil: until.toISOString(), reason }, 'job delayed');
    await this.track(this.runs.markDelayed(queue, jobId, until, reason), {
      queue,
      jobId,
      status: 'delayed',
    });
  }

  /** Resolves once every audit write started so far has settled (called on shutdown). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private onActive(queue: string, job: Job): void {
    this.logger.debug(this.fields(queue, job), 'job started');
    this.write({
      ...this.base(queue, job),
      status: 'active',
      attempts: job.attemptsMade + 1,
      lastError: null,
      startedAt: dateOf(job.processedOn) ?? new Date(),
      finishedAt: null,
    });
  }

  private onCompleted(queue: string, job: Job): void {
    const durationMs = this.durationOf(job);
    this.metrics.ended(queue, job.name, 'completed', durationMs);
    this.logger.info({ ...this.fields(queue, job), durationMs }, 'job completed');
    this.write({
      ...this.base(queue, job),
      status: 'completed',
      attempts: job.attemptsMade,
      lastError: null,
      startedAt: dateOf(job.processedOn),
      finishedAt: dateOf(job.finishedOn) ?? new Date(),
    });
  }

  private onFailed(queue: string, job: Job, error: Error): void {
    const dead = typeof job.finishedOn === 'number';
    this.metrics.ended(queue, job.name, dead ? 'dead' : 'retried', this.durationOf(job));
    const lastError = describeJobError(error);
    const fields = {
      ...this.fields(queue, job),
      error: lastError,
      // What an internal error really said, for operators: owners only see its reference.
      ...(error instanceof InternalJobError ? { detail: error.detail } : {}),
      durationMs: this.durationOf(job),
    };
    if (dead) this.logger.error(fields, 'job dead: no attempts left');
    else this.logger.warn(fields, 'job attempt failed; it will be retried');
    this.write({
      ...this.base(queue, job),
      status: dead ? 'dead' : 'failed',
      attempts: job.attemptsMade,
      lastError,
      startedAt: dateOf(job.processedOn),
      finishedAt: dead ? dateOf(job.finishedOn) : null,
    });
  }

  private base(
    queue: string,
    job: Job,
  ): Pick<JobRunRecord, 'queue' | 'name' | 'jobId' | 'userId' | 'correlationId' | 'maxAttempts'> {
    return {
      queue,
      name: job.name,
      jobId: String(job.id),
      userId: userIdOf(job),
      correlationId: correlationIdOf(job),
      maxAttempts: job.opts.attempts ?? 1,
    };
  }

  private fields(queue: string, job: Job) {
    const correlationId = correlationIdOf(job);
    const trace = traceContextOf(job);
    return {
      ...(correlationId ? { correlationId } : {}),
      ...(trace ? { traceId: trace.traceId } : {}),
      queue,
      jobName: job.name,
      jobId: job.id,
      attempt: job.attemptsStarted || job.attemptsMade + 1,
      maxAttempts: job.opts.attempts ?? 1,
    };
  }

  private durationOf(job: Job): number | undefined {
    return typeof job.processedOn === 'number' ? Date.now() - job.processedOn : undefined;
  }

  private write(run: JobRunRecord): void {
    void this.track(this.runs.record(run), run);
  }

  /**
   * Keeps `write` in the set shutdown drains and logs its failure (naming the row, never the
   * payload); the returned promise settles with it and never rejects.
   */
  private track(
    write: Promise<unknown>,
    row: { queue: string; jobId: string; status: JobRunStatus },
  ): Promise<void> {
    const settled = write.then(
      () => undefined,
      (error: unknown) => {
        this.logger.error(
          {
            queue: row.queue,
            jobId: row.jobId,
            status: row.status,
            error: describeJobError(error),
          },
          'could not write the job audit row',
        );
      },
    );
    this.pending.add(settled);
    void settled.finally(() => this.pending.delete(settled));
    return settled;
  }
}
