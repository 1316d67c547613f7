import { createHash } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { SubscriberStatus } from '../entities/subscriber.entity';

/**
 * What the ESP says about one subscriber, with the address hashed but not yet encrypted: enough
 * to tell whether the stored copy differs (`findChangedSubscribers`) before paying to encrypt.
 */
export interface SubscriberContent {
  externalId: string;
  emailHmac: string;
  status: SubscriberStatus;
  firstName: string | null;
  lastName: string | null;
  subscribedAt: Date | null;
  unsubscribedAt: Date | null;
  metadata: Record<string, unknown>;
  /** `subscriberContentHash` of the above, when the caller already has it. */
  contentHash?: Buffer;
  /** `JSON.stringify(metadata)`, when the caller already has it: the hash and the upsert share it. */
  metadataJson?: string;
}

/** One subscriber row ready to store: email already encrypted, hashed and masked. */
export interface SubscriberRow extends SubscriberContent {
  emailEncrypted: string;
  emailMasked: string;
}

/** A text value as a JSON string, or `null`. */
function jsonText(value: string | null | undefined): string {
  return value == null ? 'null' : JSON.stringify(value);
}

/**
 * 16 bytes that change whenever a compared field does (the address through its HMAC): stored in
 * `subscribers.content_hash`, so telling whether a batch changed sends 16 bytes a subscriber
 * instead of its fields (its metadata above all). Not a secret, not a security boundary.
 */
export function subscriberContentHash(content: SubscriberContent): Buffer {
  // The text of JSON.stringify([emailHmac, status, firstName, lastName, subscribedAt,
  // unsubscribedAt, metadata]), which every stored hash was made from, built from its parts so
  // the metadata's JSON (the bulk of it) is the one the upsert sends, not a second stringify.
  const text =
    `[${JSON.stringify(content.emailHmac)},${JSON.stringify(content.status)},` +
    `${jsonText(content.firstName)},${jsonText(content.lastName)},` +
    `${jsonText(content.subscribedAt?.toISOString())},` +
    `${jsonText(content.unsubscribedAt?.toISOString())},${metadataJsonOf(content)}]`;
  return createHash('sha256').update(text).digest().subarray(0, 16);
}

/** The metadata as the upsert sends it to jsonb. */
export function metadataJsonOf(content: SubscriberContent): string {
  return content.metadataJson ?? JSON.stringify(content.metadata ?? {});
}

function hashOf(content: SubscriberContent): Buffer {
  return content.contentHash ?? subscriberContentHash(content);
}

/**
 * The columns whose change makes a stored subscriber worth rewriting. The ciphertext and the mask
 * are not among them: a fresh IV changes the ciphertext of the same address every time, and the
 * HMAC already tells whether the address changed.
 */
const CHANGE_COLUMNS = [
  'status',
  'first_name',
  'last_name',
  'subscribed_at',
  'unsubscribed_at',
  'email_hmac',
  'metadata',
] as const;

/** `(a.c1, a.c2, …) IS DISTINCT FROM (b.c1, b.c2, …)` over CHANGE_COLUMNS. */
function differs(stored: string, incoming: string): string {
  const of = (alias: string) => CHANGE_COLUMNS.map((column) => `${alias}.${column}`).join(', ');
  return `(${of(stored)}) IS DISTINCT FROM (${of(incoming)})`;
}

export interface PageCounts {
  created: number;
  updated: number;
}

/**
 * The rows as one JSON array for `json_to_recordset`: one parameter built by string joins of
 * values JSON.stringify escapes natively, where 11 parallel arrays cost the driver a JavaScript
 * escape of every element (a third of the write's worker CPU). The sanitizer has already made
 * every value something Postgres's JSON accepts (no NUL, no lone surrogate).
 */
function rowsJson(rows: SubscriberRow[]): string {
  const parts = rows.map(
    (row) =>
      `{"external_id":${jsonText(row.externalId)},` +
      `"email_encrypted":${jsonText(row.emailEncrypted)},` +
      `"email_hmac":${jsonText(row.emailHmac)},"email_masked":${jsonText(row.emailMasked)},` +
      `"status":${jsonText(row.status)},` +
      `"first_name":${jsonText(row.firstName)},"last_name":${jsonText(row.lastName)},` +
      `"subscribed_at":${jsonText(row.subscribedAt?.toISOString())},` +
      `"unsubscribed_at":${jsonText(row.unsubscribedAt?.toISOString())},` +
      `"metadata":${metadataJsonOf(row)},"content_hash":"${hashOf(row).toString('hex')}"}`,
  );
  return `[${parts.join(',')}]`;
}

/**
 * Upserts one page of a connection's subscribers in one statement; unchanged rows are not
 * rewritten (no dead tuples, no WAL), so an unchanged re-sync costs reads only. A row whose
 * fields are unchanged but whose stored content hash is missing or stale (written before the
 * hash existed) gets its hash, without counting as updated or moving `updated_at`.
 */
export async function upsertSubscriberPage(
  manager: EntityManager,
  connectionId: string,
  rows: SubscriberRow[],
): Promise<PageCounts> {
  if (rows.length === 0) return { created: 0, updated: 0 };
  const returned = await manager.query<{ inserted: boolean; changed: boolean }[]>(
    `INSERT INTO subscribers AS s (
       esp_connection_id, external_id, email_encrypted, email_hmac, email_masked, status,
       first_name, last_name, subscribed_at, unsubscribed_at, metadata, content_hash)
     SELECT $1, t.external_id, t.email_encrypted, t.email_hmac, t.email_masked, t.status,
            t.first_name, t.last_name, t.subscribed_at, t.unsubscribed_at, t.metadata,
            decode(t.content_hash, 'hex')
       FROM json_to_recordset($2::json)
         AS t(external_id varchar, email_encrypted text, email_hmac varchar,
              email_masked varchar, status varchar, first_name varchar, last_name varchar,
              subscribed_at timestamptz, unsubscribed_at timestamptz, metadata jsonb,
              content_hash text)
     ON CONFLICT (esp_connection_id, external_id) DO UPDATE SET
       email_encrypted = CASE WHEN ${differs('s', 'EXCLUDED')}
                              THEN EXCLUDED.email_encrypted ELSE s.email_encrypted END,
       email_hmac = EXCLUDED.email_hmac,
       email_masked = CASE WHEN ${differs('s', 'EXCLUDED')}
                           THEN EXCLUDED.email_masked ELSE s.email_masked END,
       status = EXCLUDED.status,
       first_name = EXCLUDED.first_name,
       last_name = EXCLUDED.last_name,
       subscribed_at = EXCLUDED.subscribed_at,
       unsubscribed_at = EXCLUDED.unsubscribed_at,
       metadata = EXCLUDED.metadata,
       content_hash = EXCLUDED.content_hash,
       updated_at = CASE WHEN ${differs('s', 'EXCLUDED')} THEN now() ELSE s.updated_at END
     WHERE ${differs('s', 'EXCLUDED')}
        OR s.content_hash IS DISTINCT FROM EXCLUDED.content_hash
     RETURNING (xmax = 0) AS inserted, s.updated_at = now() AS changed`,
    [connectionId, rowsJson(rows)],
  );
  const created = returned.filter((row) => row.inserted).length;
  const updated = returned.filter((row) => !row.inserted && row.changed).length;
  return { created, updated };
}

/** Ids and content hashes as one JSON array for `json_to_recordset` (see rowsJson). */
function candidatesJson(candidates: SubscriberContent[]): string {
  const parts = candidates.map(
    (row) =>
      `{"external_id":${jsonText(row.externalId)},"content_hash":"${hashOf(row).toString('hex')}"}`,
  );
  return `[${parts.join(',')}]`;
}

/**
 * The external ids among `candidates` that are not stored for the connection or whose stored
 * content hash differs: only those need encrypting and writing. A read without locks, so it may
 * run beside the write of the previous batch; a row it calls changed that is not is still left
 * alone by the upsert (which compares the fields themselves).
 */
export async function findChangedSubscribers(
  manager: EntityManager,
  connectionId: string,
  candidates: SubscriberContent[],
): Promise<Set<string>> {
  if (candidates.length === 0) return new Set();
  const changed = await manager.query<{ external_id: string }[]>(
    `SELECT t.external_id
       FROM json_to_recordset($2::json) AS t(external_id varchar, content_hash text)
       -- LATERAL … LIMIT 1: one unique-index probe per candidate, whatever the statistics say.
       -- A plain join, planned on a first sync's stale estimate (a few rows for the connection),
       -- hashed the connection's whole list for every batch.
       LEFT JOIN LATERAL (
         SELECT content_hash FROM subscribers
          WHERE esp_connection_id = $1 AND external_id = t.external_id
          LIMIT 1) s ON true
      WHERE s.content_hash IS DISTINCT FROM decode(t.content_hash, 'hex')`,
    [connectionId, candidatesJson(candidates)],
  );
  return new Set(changed.map((row) => row.external_id));
}
