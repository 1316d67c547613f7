import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { WebhookOutcome } from './webhook-outcome';

/** The facts about a verified event that `stripe_webhook_events` keeps: no payload. */
export interface WebhookEventFacts {
  id: string;
  type: string;
  createdAt: Date;
}

/** `stripe_webhook_events`: the ledger that makes each Stripe event apply at most once. */
@Injectable()
export class StripeWebhookEventRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * In one transaction: records the event and runs `apply`, storing its outcome. An event already
   * recorded runs nothing and answers null. A second delivery racing the first waits on the row
   * until the first commits (then it is a duplicate) or rolls back (then it applies the event
   * itself). When `apply` throws, nothing is kept, so Stripe's retry applies the event again.
   */
  applyOnce(
    event: WebhookEventFacts,
    apply: (manager: EntityManager) => Promise<WebhookOutcome>,
  ): Promise<WebhookOutcome | null> {
    return this.dataSource.transaction(async (manager) => {
      const inserted = await manager.query<{ id: string }[]>(
        `INSERT INTO stripe_webhook_events (id, type, stripe_created_at, outcome)
         VALUES ($1, $2, $3, 'applying')
         ON CONFLICT (id) DO NOTHING
         RETURNING id`,
        [event.id, event.type, event.createdAt],
      );
      if (inserted.length === 0) return null;
      const outcome = await apply(manager);
      await manager.query(`UPDATE stripe_webhook_events SET outcome = $2 WHERE id = $1`, [
        event.id,
        outcome,
      ]);
      return outcome;
    });
  }
}
