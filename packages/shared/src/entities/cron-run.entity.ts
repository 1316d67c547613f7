import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const CRON_RUN_STATUSES = ['running', 'completed', 'failed'] as const;
export type CronRunStatus = (typeof CRON_RUN_STATUSES)[number];

export const CRON_RUN_TRIGGERS = ['schedule', 'catch-up', 'manual'] as const;
export type CronRunTrigger = (typeof CRON_RUN_TRIGGERS)[number];

/**
 * One row per (cron, scheduled tick). Inserting it is the claim that makes a tick run once across
 * every worker replica; it is also the catch-up record and the audit of what the tick did.
 */
@Entity({ name: 'cron_runs' })
@Check('cron_runs_status_check', `"status" IN ('running', 'completed', 'failed')`)
@Check('cron_runs_trigger_check', `"trigger" IN ('schedule', 'catch-up', 'manual')`)
@Index('cron_runs_name_tick_key', ['name', 'tick'], { unique: true })
@Index('cron_runs_unfinished_idx', ['tick'], { where: `"status" IN ('running', 'failed')` })
// Data retention: ticks that ended (never a running one) by when they ended.
@Index('cron_runs_finished_at_idx', ['finishedAt'], {
  where: `"status" IN ('completed', 'failed')`,
})
export class CronRun {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'cron_runs_pkey' })
  id: string;

  @Column({ type: 'varchar', length: 64 })
  name: string;

  /** The scheduled instant this run stands for (not when it actually started). */
  @Column({ type: 'timestamptz' })
  tick: Date;

  @Column({ type: 'varchar', length: 16 })
  trigger: CronRunTrigger;

  @Column({ type: 'varchar', length: 16, default: 'running' })
  status: CronRunStatus;

  /** Which worker claimed the tick (hostname and pid), for following logs. */
  @Column({ name: 'claimed_by', type: 'varchar', length: 255 })
  claimedBy: string;

  /** The token of the attempt that owns the tick while it is `running` (fences its writes). */
  @Column({ name: 'lease_token', type: 'uuid', nullable: true })
  leaseToken: string | null;

  /** Renewed by the owner while running; past it, the next worker that checks runs the tick again. */
  @Column({ name: 'lease_expires_at', type: 'timestamptz', nullable: true })
  leaseExpiresAt: Date | null;

  /** Attempts that claimed the tick; a failed tick is re-run up to CRON_MAX_ATTEMPTS. */
  @Column({ type: 'integer', default: 1 })
  attempts: number;

  @Column({ name: 'queued_count', type: 'integer', default: 0 })
  queuedCount: number;

  @Column({ name: 'skipped_count', type: 'integer', default: 0 })
  skippedCount: number;

  /** Why the last attempt failed (kept while a re-run runs; cleared when one completes). */
  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
