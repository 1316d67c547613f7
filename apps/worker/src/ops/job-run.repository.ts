import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { JobRun, JobRunStatus } from '@subscribernest/shared';
import { Repository } from 'typeorm';

/** One observation of a job, as the audit writes it. */
export interface JobRunRecord {
  queue: string;
  name: string;
  jobId: string;
  userId: string | null;
  /** The payload's correlation id (the api request or cron tick behind the job), when it has one. */
  correlationId: string | null;
  status: Exclude<JobRunStatus, 'queued' | 'delayed'>;
  /** Attempts started so far, this one included. */
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** How far along a job is within one attempt: a later observation never loses to an earlier one. */
const STATUS_RANK = (column: string) =>
  `CASE ${column} WHEN 'queued' THEN 0 WHEN 'delayed' THEN 0 WHEN 'active' THEN 1 ELSE 2 END`;

/** Queries on `job_runs`, the durable audit of background jobs (Redis trims its own). */
@Injectable()
export class JobRunRepository {
  constructor(@InjectRepository(JobRun) private readonly runs: Repository<JobRun>) {}

  /**
   * Upserts the row of (queue, job id). Observations can arrive out of order (the writes are
   * asynchronous, and a retry may run on another replica), so the row only moves forward: to a
   * later attempt, or to a later status within the same attempt. Writing the same observation twice
   * changes nothing.
   */
  async record(run: JobRunRecord): Promise<void> {
    await this.runs.query(
      `INSERT INTO job_runs AS run
         (queue, name, job_id, user_id, status, attempts, max_attempts, last_error, started_at,
          finished_at, correlation_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (queue, job_id) DO UPDATE SET
         name = EXCLUDED.name,
         user_id = COALESCE(run.user_id, EXCLUDED.user_id),
         correlation_id = COALESCE(run.correlation_id, EXCLUDED.correlation_id),
         status = EXCLUDED.status,
         attempts = EXCLUDED.attempts,
         max_attempts = EXCLUDED.max_attempts,
         -- A completed job has no error; other states keep the last one seen.
         last_error = CASE WHEN EXCLUDED.status = 'completed' THEN NULL
                           ELSE COALESCE(EXCLUDED.last_error, run.last_error) END,
         started_at = COALESCE(run.started_at, EXCLUDED.started_at),
         finished_at = EXCLUDED.finished_at,
         delayed_until = NULL,
         updated_at = now()
       WHERE (run.attempts, ${STATUS_RANK('run.status')})
           < (EXCLUDED.attempts, ${STATUS_RANK('EXCLUDED.status')})`,
      [
        run.queue,
        run.name,
        run.jobId,
        run.userId,
        run.status,
        run.attempts,
        run.maxAttempts,
        run.lastError,
        run.startedAt,
        run.finishedAt,
        run.correlationId,
      ],
    );
  }

  /**
   * The attempt running as (queue, job id) was handed back to the queue without finishing: its
   * worker died or lost the lock (BullMQ's stalled-job check), or it stopped early on shutdown. The
   * row goes back to `queued` with the reason as its last error, and keeps its attempt number, so
   * the next start of the job (`active`, same attempt number as BullMQ counts it) moves it on again.
   * Only an `active` row changes: a late observation never undoes a finished job.
   */
  async markHandedBack(queue: string, jobId: string, reason: string): Promise<boolean> {
    const [, affected] = await this.runs.query<[unknown, number]>(
      `UPDATE job_runs SET status = 'queued', last_error = $3, finished_at = NULL, updated_at = now()
        WHERE queue = $1 AND job_id = $2 AND status = 'active'`,
      [queue, jobId, reason],
    );
    return affected > 0;
  }

  /**
   * The attempt running as (queue, job id) put the job off until `until` (a sync waiting out an
   * ESP 429): the row becomes `delayed` with when it runs and why, keeping its attempt number, so
   * the job's next start (`active`, same attempt) moves it on. Only an `active` row changes.
   */
  async markDelayed(queue: string, jobId: string, until: Date, reason: string): Promise<boolean> {
    const [, affected] = await this.runs.query<[unknown, number]>(
      `UPDATE job_runs
          SET status = 'delayed', delayed_until = $3, last_error = $4, updated_at = now()
        WHERE queue = $1 AND job_id = $2 AND status = 'active'`,
      [queue, jobId, until, reason],
    );
    return affected > 0;
  }
}
