import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const ADMIN_ACTION_OUTCOMES = ['pending', 'succeeded', 'failed'] as const;
export type AdminActionOutcome = (typeof ADMIN_ACTION_OUTCOMES)[number];

/**
 * One action an admin took through the api: who (`adminId`), what (`action`, `target`), when, and
 * how it ended. Written before the action runs (`pending`), so a crash mid-action still leaves
 * the attempt on record. No foreign key to users: the trail outlives the account.
 */
@Entity({ name: 'admin_actions' })
@Check('admin_actions_outcome_check', `"outcome" IN ('pending', 'succeeded', 'failed')`)
@Index('admin_actions_created_at_idx', { synchronize: false })
@Index('admin_actions_admin_id_created_at_idx', { synchronize: false })
export class AdminAction {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'admin_actions_pkey' })
  id: string;

  @Column({ name: 'admin_id', type: 'uuid' })
  adminId: string;

  /** e.g. `dead-letter.retry`, `scheduler.run`, `cron-run.rerun`, `queue-board.open`. */
  @Column({ type: 'varchar', length: 64 })
  action: string;

  /** The id or name acted on (a job_runs id, a cron name…), never personal data. */
  @Column({ type: 'varchar', length: 128, nullable: true })
  target: string | null;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  outcome: AdminActionOutcome;

  /** The HTTP status the admin was answered. */
  @Column({ name: 'status_code', type: 'integer', nullable: true })
  statusCode: number | null;

  /** Why it failed, as the admin was told (our own error messages, no secrets). */
  @Column({ type: 'varchar', length: 500, nullable: true })
  detail: string | null;

  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;
}
