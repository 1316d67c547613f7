import { SkipReason } from '../sync-lifecycle/subscriber-sanitizer';
import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
} from 'typeorm';
import { EspConnection } from './esp-connection.entity';
import { User } from './user.entity';

export const SYNC_TRIGGERS = ['manual', 'scheduled'] as const;

/**
 * `full`: every subscriber, and those gone from the ESP removed at the end; `incremental`: only
 * those changed since the connection's watermark (nothing is removed).
 */
export const SYNC_MODES = ['full', 'incremental'] as const;
export type SyncMode = (typeof SYNC_MODES)[number];
export type SyncTrigger = (typeof SYNC_TRIGGERS)[number];

/** `queued`/`running` while unfinished; `success`/`failed` are the words the web frontend reads. */
export const SYNC_RUN_STATUSES = ['queued', 'running', 'success', 'failed'] as const;
export type SyncRunStatus = (typeof SYNC_RUN_STATUSES)[number];

/** One row per sync attempt chain. Its id is also the BullMQ job id of the sync. */
@Entity({ name: 'sync_runs' })
@Check('sync_runs_trigger_check', `"trigger" IN ('manual', 'scheduled')`)
@Check('sync_runs_status_check', `"status" IN ('queued', 'running', 'success', 'failed')`)
@Check('sync_runs_mode_check', `"mode" IN ('full', 'incremental')`)
@Index('sync_runs_connection_created_at_idx', ['espConnectionId', 'createdAt'])
@Index('sync_runs_user_id_idx', ['userId'])
@Index('sync_runs_unfinished_idx', ['createdAt'], { where: `"status" IN ('queued', 'running')` })
// At most one unfinished run per connection: a second trigger finds the first instead of racing it.
@Index('sync_runs_one_unfinished_per_connection_key', ['espConnectionId'], {
  unique: true,
  where: `"status" IN ('queued', 'running')`,
})
export class SyncRun {
  /** Unless given (a manual sync's, by the api), time-ordered (`uuid_v7()`): the fan-out's append. */
  @PrimaryColumn('uuid', { default: () => 'uuid_v7()', primaryKeyConstraintName: 'sync_runs_pkey' })
  id: string;

  @Column({ name: 'esp_connection_id', type: 'uuid' })
  espConnectionId: string;

  @ManyToOne(() => EspConnection, { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'esp_connection_id',
    foreignKeyConstraintName: 'sync_runs_esp_connection_id_fkey',
  })
  espConnection?: EspConnection;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'sync_runs_user_id_fkey' })
  user?: User;

  @Column({ type: 'varchar', length: 16 })
  trigger: SyncTrigger;

  @Column({ type: 'varchar', length: 16, default: 'queued' })
  status: SyncRunStatus;

  /** Decided when the run's first pass starts (null until then); its later passes keep it. */
  @Column({ type: 'varchar', length: 16, nullable: true })
  mode: SyncMode | null;

  /** An incremental run's watermark: it fetches what changed since then (ESP clock). */
  @Column({ name: 'changed_since', type: 'timestamptz', nullable: true })
  changedSince: Date | null;

  /** Subscribers at the ESP when the run finished. */
  @Column({ name: 'subscriber_count', type: 'integer', nullable: true })
  subscriberCount: number | null;

  @Column({ name: 'created_count', type: 'integer', default: 0 })
  createdCount: number;

  @Column({ name: 'updated_count', type: 'integer', default: 0 })
  updatedCount: number;

  @Column({ name: 'removed_count', type: 'integer', default: 0 })
  removedCount: number;

  /**
   * Rows the current pass put in the (unlogged) seen set: a full pass finding fewer there knows
   * Postgres lost them in a crash and starts over rather than removing what it did see.
   */
  @Column({ name: 'seen_count', type: 'integer', default: 0 })
  seenCount: number;

  /**
   * The current pass began on a connection storing no subscriber: it keeps no seen set, and its
   * end removes nothing (whatever is stored then, it stored).
   */
  @Column({ name: 'seen_set_skipped', type: 'boolean', default: false })
  seenSetSkipped: boolean;

  /** Subscribers the ESP sent that the final pass could not store (see `skipReasons`). */
  @Column({ name: 'skipped_count', type: 'integer', default: 0 })
  skippedCount: number;

  /** `skippedCount` by reason (`malformed-email`, `invalid-external-id`, `status-not-stored`). */
  @Column({ name: 'skip_reasons', type: 'jsonb', default: () => `'{}'` })
  skipReasons: Partial<Record<SkipReason, number>>;

  /**
   * The id of what caused the run: the api request's (X-Request-Id) for a manual sync, the
   * `cron_runs` id for a scheduled one. Every log line of its jobs carries it.
   */
  @Column({ name: 'correlation_id', type: 'varchar', length: 128, nullable: true })
  correlationId: string | null;

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage: string | null;

  /**
   * Fencing token of the pass that owns the run (SyncRunLifecycle): every page write and the
   * finish check it in the same statement, so a pass that lost its job can never write again.
   */
  @Column({ name: 'pass_token', type: 'uuid', nullable: true })
  passToken: string | null;

  /** Passes started so far (one per start of its job). */
  @Column({ type: 'integer', default: 0 })
  passes: number;

  /** The owning pass's last write: a run nothing drives stops moving, and the reaper fails it. */
  @Column({ name: 'heartbeat_at', type: 'timestamptz', nullable: true })
  heartbeatAt: Date | null;

  /** Total time the run has waited on ESP rate limits (bounded by SYNC_MAX_RATE_LIMIT_WAIT_MS). */
  @Column({
    name: 'rate_limited_ms',
    type: 'bigint',
    default: 0,
    transformer: { to: (value: number) => value, from: (value: string | null) => Number(value) },
  })
  rateLimitedMs: number;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
