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

/** A user's subscriber total on one UTC day; billing charges the month's maximum. */
@Entity({ name: 'subscriber_count_snapshots' })
@Index('subscriber_count_snapshots_user_day_key', ['userId', 'day'], { unique: true })
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
