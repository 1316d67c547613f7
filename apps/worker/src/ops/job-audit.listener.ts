import { Injectable } from '@nestjs/common';
import { Job, Worker } from 'bullmq';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { describeJobError } from './job-error';
import { JobRunRecord, JobRunRepository } from './job-run.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function userIdOf(job: Job): string | null {
  const data: unknown = job.data;
  if (typeof data !== 'object' || data === null || !('userId' in data)) return null;
  const userId = data.userId;
  return typeof userId === 'string' && UUID.test(userId) ? userId : null;
}

function dateOf(epochMs: number | undefined): Date | null {
  return typeof epochMs === 'number' ? new Date(epochMs) : null;
}

/**
 * The `job_runs` audit, written in one place for every queue this worker processes: listens to
 * each BullMQ worker's `active`, `completed` and `failed` events (QueueWorkersService attaches it
 * before a worker starts), so no processor writes audit rows by hand.
 *
 * `failed` is `dead` when BullMQ will not retry: attempts used up, or an UnrecoverableError (BullMQ
 * then sets `finishedOn`). Not covered: a job failed by the stalled checker after too many stalls
 * (reported only to QueueEvents) keeps its last row until it runs again.
 */
@Injectable()
export class JobAuditListener {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly runs: JobRunRepository,
    @InjectPinoLogger(JobAuditListener.name) private readonly logger: PinoLogger,
  ) {}

  watch(worker: Worker): void {
    worker.on('active', (job: Job) => this.onActive(worker.name, job));
    worker.on('completed', (job: Job) => this.onCompleted(worker.name, job));
    worker.on('failed', (job: Job | undefined, error: Error) => {
      if (job) this.onFailed(worker.name, job, error);
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
    this.logger.info(
      { ...this.fields(queue, job), durationMs: this.durationOf(job) },
      'job completed',
    );
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
    const lastError = describeJobError(error);
    const fields = {
      ...this.fields(queue, job),
      error: lastError,
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
  ): Pick<JobRunRecord, 'queue' | 'name' | 'jobId' | 'userId' | 'maxAttempts'> {
    return {
      queue,
      name: job.name,
      jobId: String(job.id),
      userId: userIdOf(job),
      maxAttempts: job.opts.attempts ?? 1,
    };
  }

  private fields(queue: string, job: Job) {
    return {
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
    const write = this.runs.record(run).catch((error: unknown) => {
      this.logger.error(
        { queue: run.queue, jobId: run.jobId, status: run.status, error: describeJobError(error) },
        'could not write the job audit row',
      );
    });
    this.pending.add(write);
    void write.finally(() => this.pending.delete(write));
  }
}
