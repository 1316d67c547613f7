import { randomUUID } from 'node:crypto';
import { EVENT, SyncRequestedEvent } from '@subscribernest/shared';
import { DataSource } from 'typeorm';

/** Anything with `query`: a TypeORM DataSource or EntityManager. */
type Db = Pick<DataSource, 'query'>;

/**
 * Writes what the api's `POST /esp-connections/:id/sync` commits (a user and connection to own
 * it, the queued `sync_runs` row, and its `sync-requested` outbox row, id = event id), left
 * unpublished as when Redis was down. `ageMs` back-dates the row past the sweeper's minimum age.
 */
export async function writeUnpublishedSyncRequest(
  db: Db,
  ageMs = 60_000,
): Promise<SyncRequestedEvent> {
  const [user] = await db.query<{ id: string }[]>(
    `INSERT INTO users (email) VALUES ($1) RETURNING id`,
    [`outbox-${randomUUID()}@example.com`],
  );
  const [connection] = await db.query<{ id: string }[]>(
    `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id, sync_status)
     VALUES ($1, 'kit', 'k1:not-a-real-key', $2, 'syncing') RETURNING id`,
    [user.id, randomUUID()],
  );
  const event = new SyncRequestedEvent({
    eventId: randomUUID(),
    espConnectionId: connection.id,
    userId: user.id,
    syncRunId: randomUUID(),
    requestedAt: new Date().toISOString(),
  });
  await db.query(
    `INSERT INTO sync_runs (id, esp_connection_id, user_id, trigger, status)
     VALUES ($1, $2, $3, 'manual', 'queued')`,
    [event.syncRunId, event.espConnectionId, event.userId],
  );
  await writeOutboxRow(db, event.eventId, EVENT.syncRequested, { ...event.toPayload() }, ageMs);
  return event;
}

/** One unpublished outbox row, created `ageMs` ago. */
export async function writeOutboxRow(
  db: Db,
  id: string,
  eventType: string,
  payload: Record<string, unknown>,
  ageMs = 60_000,
): Promise<void> {
  await db.query(
    `INSERT INTO outbox_events (id, event_type, payload, created_at)
     VALUES ($1, $2, $3, now() - $4 * interval '1 millisecond')`,
    [id, eventType, JSON.stringify(payload), ageMs],
  );
}

export interface OutboxRowState {
  publishAttempts: number;
  lastError: string | null;
  publishedAt: Date | null;
}

export async function outboxRow(db: Db, id: string): Promise<OutboxRowState | undefined> {
  const rows = await db.query<OutboxRowState[]>(
    `SELECT publish_attempts AS "publishAttempts", last_error AS "lastError",
            published_at AS "publishedAt"
       FROM outbox_events WHERE id = $1`,
    [id],
  );
  return rows[0];
}
