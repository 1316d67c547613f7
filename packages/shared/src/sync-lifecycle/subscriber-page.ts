import { finished } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { EntityManager } from 'typeorm';
import { SubscriberStatus } from '../entities/subscriber.entity';

/**
 * What the ESP says about one subscriber, sanitized, with the address hashed but not yet
 * encrypted.
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
  /**
   * subscriberContentHash of the ESP's record: what a later sync compares with
   * (findChangedSubscribers). Without it the row is stored with none, and the next sync compares
   * its fields instead. As hex, the form the queries send it in.
   */
  contentHash?: string | null;
  /** `JSON.stringify(metadata)`, when the caller already has it: the hash and the upsert share it. */
  metadataJson?: string;
}

/** One subscriber row ready to store: email already encrypted, hashed and masked. */
export interface SubscriberRow extends SubscriberContent {
  emailEncrypted: string;
  emailMasked: string;
  /** `subscriberCopyLine` of the above, when the caller already has it. */
  copyLine?: string;
}

/** A text value as a JSON string, or `null`. */
function jsonText(value: string | null | undefined): string {
  return value == null ? 'null' : JSON.stringify(value);
}

/** The metadata as the upsert sends it to jsonb. */
export function metadataJsonOf(content: SubscriberContent): string {
  return content.metadataJson ?? JSON.stringify(content.metadata ?? {});
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
  return `[${rows.map(rowJson).join(',')}]`;
}

/** One row's object in the upsert's JSON array. */
function rowJson(row: SubscriberRow): string {
  return (
    `{"external_id":${jsonText(row.externalId)},` +
    `"email_encrypted":${jsonText(row.emailEncrypted)},` +
    `"email_hmac":${jsonText(row.emailHmac)},"email_masked":${jsonText(row.emailMasked)},` +
    `"status":${jsonText(row.status)},` +
    `"first_name":${jsonText(row.firstName)},"last_name":${jsonText(row.lastName)},` +
    `"subscribed_at":${jsonText(row.subscribedAt?.toISOString())},` +
    `"unsubscribed_at":${jsonText(row.unsubscribedAt?.toISOString())},` +
    `"metadata":${metadataJsonOf(row)},"content_hash":${jsonText(row.contentHash)}}`
  );
}

/**
 * Upserts a batch of a connection's subscribers, UPSERT_STATEMENT_ROWS a statement; unchanged
 * rows are not rewritten (no dead tuples, no WAL), so an unchanged re-sync costs reads only. A
 * row whose fields are unchanged but whose stored content hash is missing or stale (written
 * before the hash existed, under an older hash version or HMAC key) gets the batch's hash,
 * without counting as updated or moving `updated_at`.
 */
export async function upsertSubscriberPage(
  manager: EntityManager,
  connectionId: string,
  rows: SubscriberRow[],
): Promise<PageCounts> {
  const counts: PageCounts = { created: 0, updated: 0 };
  for (let start = 0; start < rows.length; start += UPSERT_STATEMENT_ROWS) {
    const part = await upsertStatement(
      manager,
      connectionId,
      rows.slice(start, start + UPSERT_STATEMENT_ROWS),
    );
    counts.created += part.created;
    counts.updated += part.updated;
  }
  return counts;
}

/**
 * Rows per upsert statement; a larger batch is written in several, in its one transaction.
 * Measured on the sync bench's rows, alone on the database: 2,000-row statements wrote a third
 * fewer rows a second than 1,000-row ones (no temporary files either way); below a thousand the
 * per-statement cost shows again.
 */
export const UPSERT_STATEMENT_ROWS = 1_000;

async function upsertStatement(
  manager: EntityManager,
  connectionId: string,
  rows: SubscriberRow[],
): Promise<PageCounts> {
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

/** The columns `copySubscriberPage` writes, in the order of `subscriberCopyLine`'s fields. */
const COPY_COLUMNS =
  'esp_connection_id, external_id, email_encrypted, email_hmac, email_masked, status, ' +
  'first_name, last_name, subscribed_at, unsubscribed_at, metadata, content_hash';

/** Characters COPY's text format gives a meaning; NUL never reaches here (the sanitizer). */
const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
};

/** A value as a field of COPY's text format; `null` is `\N`. */
function copyText(value: string | null | undefined): string {
  if (value == null) return '\\N';
  return COPY_SPECIAL.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]) : value;
}

/** The content hash as a bytea field of COPY's text format (hex input, its backslash escaped). */
function hashCopyText(row: SubscriberRow): string {
  return row.contentHash == null ? '\\N' : `\\\\x${row.contentHash}`;
}

/**
 * One row as a line of COPY's text format, without its connection id (copySubscriberPage
 * prefixes it). A first sync makes it while it prepares the batch (in slices between turns of
 * the event loop), so the write itself holds the loop only for the join.
 */
export function subscriberCopyLine(row: SubscriberRow): string {
  return (
    `${copyText(row.externalId)}\t${copyText(row.emailEncrypted)}\t${copyText(row.emailHmac)}\t` +
    `${copyText(row.emailMasked)}\t${copyText(row.status)}\t${copyText(row.firstName)}\t` +
    `${copyText(row.lastName)}\t${copyText(row.subscribedAt?.toISOString())}\t` +
    `${copyText(row.unsubscribedAt?.toISOString())}\t${copyText(metadataJsonOf(row))}\t` +
    `${hashCopyText(row)}\n`
  );
}

/**
 * Inserts rows none of which the connection stores yet with one `COPY … FROM STDIN`: about twice
 * the rows a second of the upsert, which pays an index probe and a speculative insertion per row
 * to find conflicts a first sync does not have. Any row already stored fails the whole statement
 * with a unique violation (see isUniqueViolation), and the caller's transaction with it: the
 * caller writes the batch again with upsertSubscriberPage. Returns the rows inserted.
 */
export async function copySubscriberPage(
  client: PoolClient,
  connectionId: string,
  rows: SubscriberRow[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const prefix = `${connectionId}\t`;
  const text = rows.map((row) => prefix + (row.copyLine ?? subscriberCopyLine(row))).join('');
  const stream = client.query(copyFrom(`COPY subscribers (${COPY_COLUMNS}) FROM STDIN`));
  stream.end(text);
  await finished(stream);
  return stream.rowCount;
}

/** A unique violation (SQLSTATE 23505) of a query: what `copySubscriberPage` fails with on a stored row. */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '23505';
}

/** A subscriber the ESP listed, by its id and subscriberContentHash, to compare with its stored copy. */
export interface SubscriberCandidate {
  externalId: string;
  /** As hex. */
  contentHash: string;
}

/** Ids and content hashes as one JSON array for `json_to_recordset` (see rowsJson). */
function candidatesJson(candidates: SubscriberCandidate[]): string {
  const parts = candidates.map(
    (row) => `{"external_id":${jsonText(row.externalId)},"content_hash":"${row.contentHash}"}`,
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
  candidates: SubscriberCandidate[],
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
