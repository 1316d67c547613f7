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

/** A user's Stripe customer and subscription, as last seen from Stripe. */
@Entity({ name: 'billing_accounts' })
@Index('billing_accounts_user_id_key', ['userId'], { unique: true })
@Index('billing_accounts_stripe_customer_id_key', ['stripeCustomerId'], { unique: true })
export class BillingAccount {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'billing_accounts_pkey' })
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'billing_accounts_user_id_fkey' })
  user?: User;

  @Column({ name: 'stripe_customer_id', type: 'varchar', length: 255, nullable: true })
  stripeCustomerId: string | null;

  @Column({ name: 'stripe_subscription_id', type: 'varchar', length: 255, nullable: true })
  stripeSubscriptionId: string | null;

  /** Stripe's subscription status (`active`, `past_due`, `canceled`, ...), null before checkout. */
  @Column({ name: 'subscription_status', type: 'varchar', length: 32, nullable: true })
  subscriptionStatus: string | null;

  @Column({ name: 'current_period_end', type: 'timestamptz', nullable: true })
  currentPeriodEnd: Date | null;

  @Column({ name: 'cancel_at_period_end', type: 'boolean', default: false })
  cancelAtPeriodEnd: boolean;

  /**
   * When the state above was true at Stripe: the `created` time of the subscription event it came
   * from, or the time it was read from Stripe's API. An event older than this changes nothing.
   */
  @Column({ name: 'subscription_event_at', type: 'timestamptz', nullable: true })
  subscriptionEventAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
