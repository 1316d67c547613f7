import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A Stripe webhook event the api applied, by Stripe's event id: a replayed delivery finds its row
 * and changes nothing. Ids, types and times only.
 */
@Entity({ name: 'stripe_webhook_events' })
@Index('stripe_webhook_events_received_at_idx', ['receivedAt'])
export class StripeWebhookEvent {
  /** Stripe's `evt_…` id. */
  @PrimaryColumn({
    type: 'varchar',
    length: 255,
    primaryKeyConstraintName: 'stripe_webhook_events_pkey',
  })
  id: string;

  @Column({ type: 'varchar', length: 100 })
  type: string;

  /** The event's `created` time at Stripe. */
  @Column({ name: 'stripe_created_at', type: 'timestamptz' })
  stripeCreatedAt: Date;

  /** What applying it did: `applied`, `stale` (older than the state stored), `ignored`, … */
  @Column({ type: 'varchar', length: 32 })
  outcome: string;

  @Column({ name: 'received_at', type: 'timestamptz', default: () => 'now()' })
  receivedAt: Date;
}
