import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { User } from './user.entity';

export const ESP_TYPES = ['beehiiv', 'kit', 'mailchimp'] as const;
export type EspType = (typeof ESP_TYPES)[number];

export const ESP_CONNECTION_STATUSES = ['active', 'invalid', 'disconnected'] as const;
export type EspConnectionStatus = (typeof ESP_CONNECTION_STATUSES)[number];

export const SYNC_STATUSES = ['idle', 'syncing', 'synced', 'error'] as const;
export type SyncStatus = (typeof SYNC_STATUSES)[number];

/** Where an interrupted sync picks up again: the ESP's opaque cursor and the run it belongs to. */
export interface SyncCheckpoint {
  syncRunId: string;
  cursor: string | null;
  pagesDone: number;
  subscribersSeen: number;
  updatedAt: string;
  /**
   * The ESP's clock (its Date header; ours when it sent none) at the pass's first page: what the
   * connection's watermark becomes once the pass completes. Changes the pass may have missed
   * happened after it, so the next incremental pass asks from there.
   */
  espClockAt?: string;
}

@Entity({ name: 'esp_connections' })
@Check('esp_connections_esp_type_check', `"esp_type" IN ('beehiiv', 'kit', 'mailchimp')`)
@Check('esp_connections_status_check', `"status" IN ('active', 'invalid', 'disconnected')`)
@Check(
  'esp_connections_sync_status_check',
  `"sync_status" IN ('idle', 'syncing', 'synced', 'error')`,
)
// Also serves every per-user listing (user_id leads).
@Index('esp_connections_user_publication_key', ['userId', 'espType', 'publicationId'], {
  unique: true,
})
// The midnight cron pages through active connections by id; this index holds only those rows.
@Index('esp_connections_active_id_idx', ['id'], { where: `"status" = 'active'` })
export class EspConnection {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'esp_connections_pkey' })
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'esp_connections_user_id_fkey' })
  user?: User;

  @Column({ name: 'esp_type', type: 'varchar', length: 32 })
  espType: EspType;

  /** EncryptionService ciphertext; the plain key never reaches the database, a response or a log. */
  @Column({ name: 'encrypted_api_key', type: 'text' })
  encryptedApiKey: string;

  /** beehiiv publication id, Mailchimp list id, or the Kit account id (Kit has one list). */
  @Column({ name: 'publication_id', type: 'varchar', length: 255 })
  publicationId: string;

  @Column({ name: 'publication_name', type: 'varchar', length: 512, nullable: true })
  publicationName: string | null;

  @Column({ type: 'varchar', length: 16, default: 'active' })
  status: EspConnectionStatus;

  @Column({ name: 'sync_status', type: 'varchar', length: 16, default: 'idle' })
  syncStatus: SyncStatus;

  @Column({ name: 'last_validated_at', type: 'timestamptz', nullable: true })
  lastValidatedAt: Date | null;

  @Column({ name: 'last_synced_at', type: 'timestamptz', nullable: true })
  lastSyncedAt: Date | null;

  @Column({ name: 'sync_checkpoint', type: 'jsonb', nullable: true })
  syncCheckpoint: SyncCheckpoint | null;

  /**
   * The ESP's clock when the last complete pass (full or incremental) started: an incremental
   * pass fetches what changed since then. Advanced only when a pass completes.
   */
  @Column({ name: 'sync_watermark', type: 'timestamptz', nullable: true })
  syncWatermark: Date | null;

  /** When the last complete full pass finished (our clock): due again SYNC_FULL_PASS_EVERY_DAYS on. */
  @Column({ name: 'last_full_sync_at', type: 'timestamptz', nullable: true })
  lastFullSyncAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
