import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  UpdateDateColumn,
} from 'typeorm';
import { EspConnection } from './esp-connection.entity';

export const SUBSCRIBER_STATUSES = ['active', 'unsubscribed', 'bounced'] as const;
export type SubscriberStatus = (typeof SUBSCRIBER_STATUSES)[number];

@Entity({ name: 'subscribers' })
@Check('subscribers_status_check', `"status" IN ('active', 'unsubscribed', 'bounced')`)
// The sync upsert target: INSERT ... ON CONFLICT (esp_connection_id, external_id).
@Index('subscribers_connection_external_id_key', ['espConnectionId', 'externalId'], {
  unique: true,
})
// Keyset pages and status filters/counts within one connection.
@Index('subscribers_connection_status_id_idx', ['espConnectionId', 'status', 'id'])
@Index('subscribers_connection_id_idx', ['espConnectionId', 'id'])
@Index('subscribers_connection_email_hmac_idx', ['espConnectionId', 'emailHmac'])
export class Subscriber {
  /** A time-ordered UUID (version 7, `uuid_v7()`): new rows append to the id indexes. */
  @PrimaryColumn('uuid', {
    default: () => 'uuid_v7()',
    primaryKeyConstraintName: 'subscribers_pkey',
  })
  id: string;

  @Column({ name: 'esp_connection_id', type: 'uuid' })
  espConnectionId: string;

  @ManyToOne(() => EspConnection, { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'esp_connection_id',
    foreignKeyConstraintName: 'subscribers_esp_connection_id_fkey',
  })
  espConnection?: EspConnection;

  @Column({ name: 'external_id', type: 'varchar', length: 255 })
  externalId: string;

  /** EncryptionService ciphertext of the address. */
  @Column({ name: 'email_encrypted', type: 'text' })
  emailEncrypted: string;

  /** Keyed HMAC of the normalised address, for lookups and de-duplication without decrypting. */
  @Column({ name: 'email_hmac', type: 'varchar', length: 64 })
  emailHmac: string;

  /** What lists show, e.g. `j***@e***.com`. */
  @Column({ name: 'email_masked', type: 'varchar', length: 320 })
  emailMasked: string;

  @Column({ type: 'varchar', length: 16 })
  status: SubscriberStatus;

  @Column({ name: 'first_name', type: 'varchar', length: 255, nullable: true })
  firstName: string | null;

  @Column({ name: 'last_name', type: 'varchar', length: 255, nullable: true })
  lastName: string | null;

  @Column({ name: 'subscribed_at', type: 'timestamptz', nullable: true })
  subscribedAt: Date | null;

  @Column({ name: 'unsubscribed_at', type: 'timestamptz', nullable: true })
  unsubscribedAt: Date | null;

  @Column({ type: 'jsonb', default: () => `'{}'` })
  metadata: Record<string, unknown>;

  /**
   * subscriberContentHash of the ESP's record (keyed): how a sync tells unchanged rows without
   * sanitizing or sending them. Null for a row written without one (until its next sync). Never
   * selected by default.
   */
  @Column({ name: 'content_hash', type: 'bytea', nullable: true, select: false })
  contentHash: Buffer | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
