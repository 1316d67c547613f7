import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

/**
 * `queued` waits for a worker (new, or handed back after a stall or a shutdown); `active` runs;
 * `delayed` put itself off until `delayedUntil` (a sync waiting out an ESP 429); `completed`;
 * `failed` is an attempt that failed and will be retried; `dead` failed for good.
 */
export const JOB_RUN_STATUSES = [
  'queued',
  'active',
  'delayed',
  'completed',
  'failed',
  'dead',
] as const;
export type JobRunStatus = (typeof JOB_RUN_STATUSES)[number];

/**
 * Durable audit of every background job. Redis trims its own job records, so job status,
 * `GET /jobs/:id` and the dead-letter list are read from here.
 */
@Entity({ name: 'job_runs' })
@Check(
  'job_runs_status_check',
  `"status" IN ('queued', 'active', 'delayed', 'completed', 'failed', 'dead')`,
)
@Index('job_runs_queue_job_id_key', ['queue', 'jobId'], { unique: true })
@Index('job_runs_user_id_idx', ['userId'])
// The dead-letter list: only dead jobs, newest first.
@Index('job_runs_dead_idx', ['updatedAt'], { where: `"status" = 'dead'` })
// Data retention: finished jobs (never queued, active or delayed ones) by their last update.
@Index('job_runs_finished_updated_at_idx', ['updatedAt'], {
  where: `"status" IN ('completed', 'failed', 'dead')`,
})
export class JobRun {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'job_runs_pkey' })
  id: string;

  @Column({ type: 'varchar', length: 64 })
  queue: string;

  @Column({ type: 'varchar', length: 64 })
  name: string;

  /** The BullMQ job id (deterministic where a duplicate would be harmful). */
  @Column({ name: 'job_id', type: 'varchar', length: 255 })
  jobId: string;

  /** Whose job this is, when it belongs to a user (owner check on `GET /jobs/:id`). */
  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId: string | null;

  @Column({ type: 'varchar', length: 16, default: 'queued' })
  status: JobRunStatus;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'max_attempts', type: 'integer', default: 1 })
  maxAttempts: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  /** The correlation id the job's payload carried (the api request or cron tick behind it). */
  @Column({ name: 'correlation_id', type: 'varchar', length: 128, nullable: true })
  correlationId: string | null;

  /** When a `delayed` job runs again; null in every other state. */
  @Column({ name: 'delayed_until', type: 'timestamptz', nullable: true })
  delayedUntil: Date | null;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
