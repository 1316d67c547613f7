import { Injectable } from '@nestjs/common';
import { OutboxMessage } from '@subscribernest/shared';
import { DataSource, EntityManager } from 'typeorm';

/** Queries of the outbox sweeper on `outbox_events`. */
@Injectable()
export class OutboxEventRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * In one transaction: locks up to `limit` unpublished rows at least `minAgeMs` old that no other
   * transaction holds (`FOR UPDATE SKIP LOCKED`, so replicas sweeping at once take disjoint rows),
   * hands them to `work` with the transaction's manager, and commits when `work` settles. The
   * locks last until then, and a row another replica has just published is skipped (Postgres
   * re-checks `published_at IS NULL` on the committed version before locking it).
   *
   * Order: fewest publish attempts first, then oldest, so rows that keep failing (a poison event)
   * sink behind fresh ones instead of filling every batch.
   */
  withPendingBatch<T>(
    limit: number,
    minAgeMs: number,
    work: (rows: OutboxMessage[], manager: EntityManager) => Promise<T>,
  ): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      const rows = await manager.query<OutboxMessage[]>(
        `SELECT id, event_type AS "eventType", payload
           FROM outbox_events
          WHERE published_at IS NULL
            AND created_at <= now() - $2 * interval '1 millisecond'
          ORDER BY publish_attempts, created_at, id
          LIMIT $1
          FOR UPDATE SKIP LOCKED`,
        [limit, minAgeMs],
      );
      return work(rows, manager);
    });
  }
}
