import { EspType, maskEmail, SubscriberStatus } from '@subscribernest/shared';
import { TestApi } from './test-api';

/** A subscriber to store; what is left out gets a plain default. */
export interface SubscriberSpec {
  email: string;
  status?: SubscriberStatus;
  firstName?: string | null;
  lastName?: string | null;
  subscribedAt?: Date | null;
  unsubscribedAt?: Date | null;
  externalId?: string;
}

export interface ConnectionSpec {
  espType?: EspType;
  publicationId?: string;
  publicationName?: string | null;
  lastSyncedAt?: Date | null;
}

/** Rows per INSERT statement. */
const CHUNK = 5_000;

/**
 * An ESP connection of `userId`, stored directly (no ESP involved), with an encrypted key as
 * the api would store it. Returns its id.
 */
export async function insertConnection(
  api: TestApi,
  userId: string,
  spec: ConnectionSpec = {},
): Promise<string> {
  const publicationId = spec.publicationId ?? `pub_${Math.random().toString(36).slice(2, 10)}`;
  const [row] = await api.dataSource.query<{ id: string }[]>(
    `INSERT INTO esp_connections
       (user_id, esp_type, encrypted_api_key, publication_id, publication_name, status,
        sync_status, last_synced_at)
     VALUES ($1, $2, $3, $4, $5, 'active', 'synced', $6)
     RETURNING id`,
    [
      userId,
      spec.espType ?? 'beehiiv',
      api.encryption.encrypt('test-api-key'),
      publicationId,
      spec.publicationName === undefined ? publicationId : spec.publicationName,
      spec.lastSyncedAt ?? null,
    ],
  );
  return row.id;
}

/**
 * Stores subscribers of a connection the way a sync does: address encrypted with the app's
 * EncryptionService, its HMAC and its masked form. Returns the new ids, in `specs` order.
 */
export async function insertSubscribers(
  api: TestApi,
  connectionId: string,
  specs: SubscriberSpec[],
): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < specs.length; start += CHUNK) {
    const chunk = specs.slice(start, start + CHUNK);
    const column = <T>(pick: (spec: SubscriberSpec, index: number) => T) =>
      chunk.map((spec, index) => pick(spec, start + index));
    const externalIds = column((spec, index) => spec.externalId ?? `ext-${index}`);
    const rows = await api.dataSource.query<{ id: string; external_id: string }[]>(
      `INSERT INTO subscribers
         (esp_connection_id, external_id, email_encrypted, email_hmac, email_masked, status,
          first_name, last_name, subscribed_at, unsubscribed_at, metadata)
       SELECT $1, t.external_id, t.email_encrypted, t.email_hmac, t.email_masked, t.status,
              t.first_name, t.last_name, t.subscribed_at, t.unsubscribed_at, '{}'::jsonb
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::text[], $9::timestamptz[], $10::timestamptz[])
           AS t(external_id, email_encrypted, email_hmac, email_masked, status, first_name,
                last_name, subscribed_at, unsubscribed_at)
       RETURNING id, external_id`,
      [
        connectionId,
        externalIds,
        column((spec) => api.encryption.encrypt(spec.email)),
        column((spec) => api.encryption.emailHmac(spec.email)),
        column((spec) => maskEmail(spec.email)),
        column((spec) => spec.status ?? 'active'),
        column((spec) => spec.firstName ?? null),
        column((spec) => spec.lastName ?? null),
        column((spec) => spec.subscribedAt ?? null),
        column((spec) => spec.unsubscribedAt ?? null),
      ],
    );
    const byExternalId = new Map(rows.map((row) => [row.external_id, row.id]));
    ids.push(...externalIds.map((externalId) => byExternalId.get(externalId)!));
  }
  return ids;
}

const STATUS_CYCLE: SubscriberStatus[] = [
  'active',
  'active',
  'active',
  'unsubscribed',
  'active',
  'bounced',
];

/** `count` plausible subscribers, `<prefix>-<n>@example.com`, statuses in a fixed mix. */
export function manySubscribers(count: number, prefix = 'reader'): SubscriberSpec[] {
  return Array.from({ length: count }, (_, n) => {
    const status = STATUS_CYCLE[n % STATUS_CYCLE.length];
    return {
      email: `${prefix}-${n}@example.com`,
      status,
      firstName: `First${n}`,
      lastName: `Last${n}`,
      subscribedAt: new Date(Date.UTC(2024, 0, 1) + n * 60_000),
      unsubscribedAt: status === 'unsubscribed' ? new Date(Date.UTC(2025, 0, 1) + n * 1000) : null,
      externalId: `${prefix}-ext-${n}`,
    };
  });
}
