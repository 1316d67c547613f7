import type { EspType } from '../entities/esp-connection.entity';
import type { SubscriberStatus } from '../entities/subscriber.entity';
import type { EspCredentialKind } from './budget/esp-rate-budget';
import { EspError, NotFoundError } from './esp-errors';
import { settleAll } from './settle-all';

export interface EspCredentials {
  apiKey: string;
  /** beehiiv publication id, Mailchimp list id; optional for Kit (the account is its one list). */
  publicationId?: string;
  /**
   * Kit only: `oauth` when `apiKey` is an OAuth access token (sent as Bearer, with the larger
   * OAuth request budget). Default `api-key`; the product stores API keys only today.
   */
  kind?: EspCredentialKind;
}

/**
 * How a vendor lets a pass fetch only what changed: `timestamp` (Mailchimp since_last_changed),
 * `date` (Kit updated_after, day granularity); null when it cannot (beehiiv: every pass is full).
 */
export type EspChangeFilter = 'timestamp' | 'date';

export interface PassOptions {
  /**
   * Only subscribers changed (or added) since then: an incremental pass. The client widens it by
   * what the vendor's filter needs (a day for Kit's dates, minutes of clock skew for Mailchimp);
   * null or absent: every subscriber. A resumed pass must give the value it started with: its
   * cursor names it, and a cursor of another pass is an InvalidCursorError.
   */
  changedSince?: Date | null;
}

/** A publication (beehiiv), list (Mailchimp) or account (Kit) the key can see. */
export interface EspList {
  id: string;
  name: string;
  /**
   * Subscribers a complete sync stores: every status our model has (active, unsubscribed,
   * bounced), for every ESP alike (`countSyncable`). What the synced list will hold.
   */
  subscriberCount: number;
  /** Every subscriber the ESP holds for the list, statuses we do not sync included. */
  total: number;
}

/**
 * `ok: false` carries the typed error: `InvalidCredentialsError` and `NotFoundError` mean the
 * key or the id is wrong; `RateLimitedError`/`TransientError` mean "ask again later".
 */
export type EspValidation =
  { ok: true; publicationId: string; publicationName: string } | { ok: false; error: EspError };

/** One subscriber in our model, whichever ESP it came from. */
export interface EspSubscriber {
  externalId: string;
  email: string;
  status: SubscriberStatus;
  firstName: string | null;
  lastName: string | null;
  subscribedAt: Date | null;
  unsubscribedAt: Date | null;
  /** The vendor's remaining fields; never the email, never a key named like a field above. */
  metadata: Record<string, unknown>;
}

export interface SubscriberPage {
  subscribers: EspSubscriber[];
  /** Records on this page whose vendor status maps to none of ours (pending, archived, …). */
  skipped: number;
  /** Where the next page starts; save it to resume. `null`: this page ends a complete pass. */
  nextCursor: string | null;
  /** The ESP's clock when it answered (its Date header); null when it did not say. */
  serverDate: Date | null;
}

/**
 * One ESP behind one interface. Implementations are stateless (credentials come with each
 * call), so one instance serves every connection of its ESP.
 */
export interface EspClient {
  readonly espType: EspType;
  /** The vendor's change filter, or null: incremental passes are impossible (beehiiv). */
  readonly changeFilter: EspChangeFilter | null;
  /** Every publication/list the key can see, with names and subscriber counts. */
  listPublications(apiKey: string): Promise<EspList[]>;
  /** Checks the key and the publication id; never throws an `EspError`, returns it. */
  validate(credentials: EspCredentials): Promise<EspValidation>;
  /**
   * The vendor's total for the list in one cheap call, every status included (also those a
   * full pass skips), so it is an upper bound on what `streamSubscribers` yields.
   */
  countSubscribers(credentials: EspCredentials): Promise<number>;
  /**
   * The subscribers a complete pass stores: those whose vendor status maps to one of ours, so
   * the number the synced list will hold (a few cheap calls: one per status where needed).
   */
  countSyncable(credentials: EspCredentials): Promise<number>;
  /**
   * One page from `cursor` (null: the beginning). Subscribers whose vendor status maps to none
   * of ours are left out and counted in `skipped`: beehiiv validating, pending, needs_attention
   * and paused; Kit inactive; Mailchimp pending, transactional and archived. A cursor that is
   * not this client's (another ESP, list, format version or `changedSince`) is an
   * `InvalidCursorError`. Pages are `background` calls of the request budget.
   */
  fetchPage(
    credentials: EspCredentials,
    cursor: string | null,
    options?: PassOptions,
  ): Promise<SubscriberPage>;
  /**
   * Pages from `cursor` to the end of the list. The next page is requested while the caller
   * handles the current one (still one request at a time), so network and storage overlap.
   */
  streamSubscribers(
    credentials: EspCredentials,
    cursor?: string | null,
    options?: PassOptions,
  ): AsyncGenerator<SubscriberPage, void, undefined>;
}

/**
 * Walks `fetchPage` from `cursor` until a page says the pass is complete, prefetching one page
 * ahead. A prefetch that fails surfaces when the caller asks for that page, after it has saved
 * the previous page's cursor, so resuming loses nothing.
 */
export async function* streamPages(
  fetchPage: (cursor: string | null) => Promise<SubscriberPage>,
  cursor: string | null,
): AsyncGenerator<SubscriberPage, void, undefined> {
  let pending = fetchPage(cursor);
  for (;;) {
    const page = await pending;
    if (page.nextCursor === null) {
      yield page;
      return;
    }
    pending = fetchPage(page.nextCursor);
    // Observed here so a caller that stops early leaves no unhandled rejection behind.
    pending.catch(() => undefined);
    yield page;
  }
}

/** The sum of one count per status, asked at once (a vendor with a count filter per status). */
export async function sumOfStatusCounts(
  statuses: readonly string[],
  count: (status: string) => Promise<number>,
): Promise<number> {
  const counts = await settleAll(statuses.map(count));
  return counts.reduce((sum, n) => sum + n, 0);
}

/** Runs a credentials check, returning the typed error instead of throwing it. */
export async function runValidation(
  check: () => Promise<{ publicationId: string; publicationName: string }>,
): Promise<EspValidation> {
  try {
    return { ok: true, ...(await check()) };
  } catch (error) {
    if (error instanceof EspError) return { ok: false, error };
    throw error;
  }
}

/** The publication/list id an ESP needs, or a `NotFoundError` saying it was not given. */
export function requirePublicationId(espType: EspType, credentials: EspCredentials): string {
  const id = credentials.publicationId?.trim();
  if (!id) throw new NotFoundError(espType, 'no publication/list id was given');
  return id;
}
