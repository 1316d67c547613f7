import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A domain event written in the same transaction as the change it describes, then published to
 * the `domain-events` queue. Rows with no `published_at` are what the worker's sweeper picks up.
 */
@Entity({ name: 'outbox_events' })
@Index('outbox_events_unpublished_idx', ['createdAt'], { where: `"published_at" IS NULL` })
// Data retention: events published more than RETENTION_OUTBOX_DAYS ago.
@Index('outbox_events_published_at_idx', ['publishedAt'], { where: `"published_at" IS NOT NULL` })
export class OutboxEvent {
  /** The event's own id, also the BullMQ job id, so publishing twice is harmless. */
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'outbox_events_pkey' })
  id: string;

  @Column({ name: 'event_type', type: 'varchar', length: 64 })
  eventType: string;

  @Column({ type: 'jsonb' })
  payload: Record<string, unknown>;

  @Column({ name: 'publish_attempts', type: 'integer', default: 0 })
  publishAttempts: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'published_at', type: 'timestamptz', nullable: true })
  publishedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
