import { Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { SyncRun } from './sync-run.entity';

/** An external id a sync run has seen at the ESP; a complete pass deletes the ones it did not. */
@Entity({ name: 'sync_seen_subscribers' })
export class SyncSeenSubscriber {
  @PrimaryColumn({
    name: 'sync_run_id',
    type: 'uuid',
    primaryKeyConstraintName: 'sync_seen_subscribers_pkey',
  })
  syncRunId: string;

  @PrimaryColumn({
    name: 'external_id',
    type: 'varchar',
    length: 255,
    primaryKeyConstraintName: 'sync_seen_subscribers_pkey',
  })
  externalId: string;

  @ManyToOne(() => SyncRun, { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'sync_run_id',
    foreignKeyConstraintName: 'sync_seen_subscribers_sync_run_id_fkey',
  })
  syncRun?: SyncRun;
}
