import {
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

/**
 * A connection's stored subscriber count on one UTC day (the last successful sync's), of every
 * status. A month is billed as the sum over the user's connections of each one's highest count.
 */
@Entity({ name: 'subscriber_count_snapshots' })
@Index('subscriber_count_snapshots_user_connection_day_key', ['userId', 'espConnectionId', 'day'], {
  unique: true,
})
export class SubscriberCountSnapshot {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'subscriber_count_snapshots_pkey' })
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'user_id',
    foreignKeyConstraintName: 'subscriber_count_snapshots_user_id_fkey',
  })
  user?: User;

  /** Null on rows written before snapshots were per connection (then: the user's daily total). */
  @Column({ name: 'esp_connection_id', type: 'uuid', nullable: true })
  espConnectionId: string | null;

  /** UTC calendar day, `YYYY-MM-DD`. */
  @Column({ type: 'date' })
  day: string;

  @Column({ name: 'subscriber_count', type: 'integer' })
  subscriberCount: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
