import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { SyncRun } from './sync-run.entity';

/**
 * The external ids one stored batch of a full sync pass saw at the ESP (a JSON array, duplicates
 * allowed); a complete pass deletes the connection's subscribers none of its batches saw.
 */
@Entity({ name: 'sync_seen_batches' })
@Index('sync_seen_batches_sync_run_id_idx', ['syncRunId'])
export class SyncSeenBatch {
  @PrimaryGeneratedColumn('increment', {
    type: 'bigint',
    primaryKeyConstraintName: 'sync_seen_batches_pkey',
  })
  id: string;

  @Column({ name: 'sync_run_id', type: 'uuid' })
  syncRunId: string;

  @Column({ name: 'external_ids', type: 'json' })
  externalIds: string[];

  @Column({ name: 'id_count', type: 'integer' })
  idCount: number;

  @ManyToOne(() => SyncRun, { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'sync_run_id',
    foreignKeyConstraintName: 'sync_seen_batches_sync_run_id_fkey',
  })
  syncRun?: SyncRun;
}
