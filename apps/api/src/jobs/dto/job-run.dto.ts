import { ApiProperty } from '@nestjs/swagger';
import {
  JOB,
  JOB_RUN_STATUSES,
  JobRun,
  JobRunStatus,
  QUEUE,
  SyncRun,
  SyncRunStatus,
} from '@subscribernest/shared';

const SYNC_RUN_TO_JOB_STATUS: Record<SyncRunStatus, JobRunStatus> = {
  queued: 'queued',
  running: 'active',
  success: 'completed',
  failed: 'failed',
};

/** One background job as recorded in Postgres (`job_runs`). */
export class JobRunDto {
  @ApiProperty({ format: 'uuid', description: 'The job_runs id (the sync run id for a sync)' })
  id: string;

  @ApiProperty({ description: 'The BullMQ job id' })
  jobId: string;

  @ApiProperty({ example: 'email' })
  queue: string;

  @ApiProperty({ example: 'login-code' })
  name: string;

  @ApiProperty({ enum: JOB_RUN_STATUSES })
  status: JobRunStatus;

  @ApiProperty({ description: 'Attempts made so far' })
  attempts: number;

  @ApiProperty()
  maxAttempts: number;

  @ApiProperty({ type: String, nullable: true })
  lastError: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When a `delayed` job runs again (e.g. a sync waiting out an ESP 429); else null',
  })
  delayedUntil: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'The api request (X-Request-Id) or cron tick (cron_runs id) behind the job: grep the logs ' +
      'of both services for it',
  })
  correlationId: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  startedAt: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  finishedAt: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt: string;

  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt: string;

  static from(run: JobRun): JobRunDto {
    return {
      id: run.id,
      jobId: run.jobId,
      queue: run.queue,
      name: run.name,
      status: run.status,
      attempts: run.attempts,
      maxAttempts: run.maxAttempts,
      lastError: run.lastError,
      delayedUntil: run.delayedUntil?.toISOString() ?? null,
      correlationId: run.correlationId,
      startedAt: run.startedAt?.toISOString() ?? null,
      finishedAt: run.finishedAt?.toISOString() ?? null,
      createdAt: run.createdAt.toISOString(),
      updatedAt: run.updatedAt.toISOString(),
    };
  }

  /**
   * A sync the worker has not recorded in `job_runs` yet, read from its sync run. `sync_runs`
   * does not count attempts: 0 until it starts, then at least 1.
   */
  static fromSyncRun(run: SyncRun, maxAttempts: number): JobRunDto {
    const finishedAt = run.completedAt?.toISOString() ?? null;
    return {
      id: run.id,
      jobId: run.id,
      queue: QUEUE.subscriberSync,
      name: JOB.syncPublication,
      status: SYNC_RUN_TO_JOB_STATUS[run.status],
      attempts: run.status === 'queued' ? 0 : 1,
      maxAttempts,
      lastError: run.errorMessage,
      delayedUntil: null,
      correlationId: run.correlationId,
      startedAt: run.startedAt?.toISOString() ?? null,
      finishedAt,
      createdAt: run.createdAt.toISOString(),
      updatedAt: finishedAt ?? run.startedAt?.toISOString() ?? run.createdAt.toISOString(),
    };
  }
}
