import { EntityManager } from 'typeorm';
import { SubscriberStatus } from '../entities/subscriber.entity';

/** One subscriber row ready to store: email already encrypted, hashed and masked. */
export interface SubscriberRow {
  externalId: string;
  emailEncrypted: string;
  emailHmac: string;
  emailMasked: string;
  status: SubscriberStatus;
  firstName: string | null;
  lastName: string | null;
  subscribedAt: Date | null;
  unsubscribedAt: Date | null;
  metadata: Record<string, unknown>;
}

export interface PageCounts {
  created: number;
  updated: number;
}

/**
 * Upserts one page of a connection's subscribers in one statement; unchanged rows are not
 * rewritten (no dead tuples, no WAL), so an unchanged re-sync costs reads only.
 */
export async function upsertSubscriberPage(
  manager: EntityManager,
  connectionId: string,
  rows: SubscriberRow[],
): Promise<PageCounts> {
  if (rows.length === 0) return { created: 0, updated: 0 };
  const returned = await manager.query<{ inserted: boolean }[]>(
    `INSERT INTO subscribers AS s (
       esp_connection_id, external_id, email_encrypted, email_hmac, email_masked, status,
       first_name, last_name, subscribed_at, unsubscribed_at, metadata)
     SELECT $1, t.external_id, t.email_encrypted, t.email_hmac, t.email_masked, t.status,
            t.first_name, t.last_name, t.subscribed_at, t.unsubscribed_at, t.metadata
       FROM unnest($2::varchar[], $3::text[], $4::varchar[], $5::varchar[], $6::varchar[],
                   $7::varchar[], $8::varchar[], $9::timestamptz[], $10::timestamptz[],
                   $11::jsonb[])
         AS t(external_id, email_encrypted, email_hmac, email_masked, status, first_name,
              last_name, subscribed_at, unsubscribed_at, metadata)
     ON CONFLICT (esp_connection_id, external_id) DO UPDATE SET
       email_encrypted = EXCLUDED.email_encrypted,
       email_hmac = EXCLUDED.email_hmac,
       email_masked = EXCLUDED.email_masked,
       status = EXCLUDED.status,
       first_name = EXCLUDED.first_name,
       last_name = EXCLUDED.last_name,
       subscribed_at = EXCLUDED.subscribed_at,
       unsubscribed_at = EXCLUDED.unsubscribed_at,
       metadata = EXCLUDED.metadata,
       updated_at = now()
     WHERE (s.status, s.first_name, s.last_name, s.subscribed_at, s.unsubscribed_at,
            s.email_hmac, s.metadata)
       IS DISTINCT FROM (EXCLUDED.status, EXCLUDED.first_name, EXCLUDED.last_name,
            EXCLUDED.subscribed_at, EXCLUDED.unsubscribed_at, EXCLUDED.email_hmac,
            EXCLUDED.metadata)
     RETURNING (xmax = 0) AS inserted`,
    [
      connectionId,
      rows.map((row) => row.externalId),
      rows.map((row) => row.emailEncrypted),
      rows.map((row) => row.emailHmac),
      rows.map((row) => row.emailMasked),
      rows.map((row) => row.status),
      rows.map((row) => row.firstName),
      rows.map((row) => row.lastName),
      rows.map((row) => row.subscribedAt?.toISOString() ?? null),
      rows.map((row) => row.unsubscribedAt?.toISOString() ?? null),
      rows.map((row) => JSON.stringify(row.metadata ?? {})),
    ],
  );
  const created = returned.filter((row) => row.inserted).length;
  return { created, updated: returned.length - created };
}
