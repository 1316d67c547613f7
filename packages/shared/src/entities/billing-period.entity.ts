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

/**
 * `pending`: written, not reported yet (a retry of the job reports it); `not_invoiced`: closed
 * without Stripe (billing disabled, or a user who never subscribed); `skipped`: nothing to charge
 * ($0); `reported`: Stripe's meter accepted the month; `invoiced` / `paid` / `failed`: what the
 * invoice webhooks said since.
 */
export const BILLING_PERIOD_STATUSES = [
  'pending',
  'not_invoiced',
  'reported',
  'invoiced',
  'paid',
  'failed',
  'skipped',
] as const;
export type BillingPeriodStatus = (typeof BILLING_PERIOD_STATUSES)[number];

/** One row per user per billing month; unique so that a billing run can be repeated safely. */
@Entity({ name: 'billing_periods' })
@Check(
  'billing_periods_status_check',
  `"status" IN ('pending', 'not_invoiced', 'reported', 'invoiced', 'paid', 'failed', 'skipped')`,
)
@Index('billing_periods_user_period_key', ['userId', 'periodStart'], { unique: true })
// The invoice webhooks find a period by its invoice.
@Index('billing_periods_stripe_invoice_id_idx', ['stripeInvoiceId'], {
  where: '"stripe_invoice_id" IS NOT NULL',
})
export class BillingPeriod {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'billing_periods_pkey' })
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'billing_periods_user_id_fkey' })
  user?: User;

  /** First UTC day of the month billed, `YYYY-MM-DD`. */
  @Column({ name: 'period_start', type: 'date' })
  periodStart: string;

  /** First UTC day of the next month (exclusive end). */
  @Column({ name: 'period_end', type: 'date' })
  periodEnd: string;

  @Column({ name: 'max_subscriber_count', type: 'integer', default: 0 })
  maxSubscriberCount: number;

  @Column({ name: 'amount_cents', type: 'integer', default: 0 })
  amountCents: number;

  @Column({ type: 'varchar', length: 3, default: 'usd' })
  currency: string;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status: BillingPeriodStatus;

  @Column({ name: 'stripe_invoice_id', type: 'varchar', length: 255, nullable: true })
  stripeInvoiceId: string | null;

  /** The Stripe meter event's `identifier` (one per user and month), once reported. */
  @Column({ name: 'meter_event_identifier', type: 'varchar', length: 100, nullable: true })
  meterEventIdentifier: string | null;

  /** The value reported to the meter: the month's amount in cents. */
  @Column({ name: 'reported_value', type: 'integer', nullable: true })
  reportedValue: number | null;

  /**
   * When the month's meter event is dated, fixed before it is first sent: every retry sends the
   * same request, and the count and amount no longer change (what was sent is what is billed).
   */
  @Column({ name: 'meter_event_at', type: 'timestamptz', nullable: true })
  meterEventAt: Date | null;

  @Column({ name: 'reported_at', type: 'timestamptz', nullable: true })
  reportedAt: Date | null;

  /** `created` of the last invoice event applied: an older one never overwrites it. */
  @Column({ name: 'invoice_event_at', type: 'timestamptz', nullable: true })
  invoiceEventAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
