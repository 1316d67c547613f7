import type { SubscriberStatus } from '../entities/subscriber.entity';
import type { EspCallPriority, EspCredentialKind } from './budget/esp-rate-budget';
import {
  EspClient,
  EspCredentials,
  EspList,
  EspSubscriber,
  EspValidation,
  PassOptions,
  SubscriberPage,
  streamPages,
  runValidation,
} from './esp-client';
import { decodeCursor, encodeCursor } from './esp-cursor';
import { InvalidCursorError, NotFoundError, ProtocolError } from './esp-errors';
import { EspHttpClient, EspHttpOptions, QueryValue, usableApiKey } from './esp-http.client';
import {
  Json,
  isJson,
  isoDate,
  mapStatus,
  metadataOf,
  optionalText,
  readArray,
  readCount,
  readId,
  readObject,
  readString,
} from './esp-payload';
import { settleAll } from './settle-all';

const ESP = 'kit';
/** Kit's maximum `per_page`. */
export const KIT_PAGE_SIZE = 1000;

/** `inactive` is not synced. */
const STATUSES: Readonly<Record<string, SubscriberStatus>> = {
  active: 'active',
  cancelled: 'unsubscribed',
  bounced: 'bounced',
  complained: 'unsubscribed', // our choice: a complaint is the strongest unsubscribe
};
// `state` stays in metadata: it keeps "complained" apart from "cancelled".
const CONSUMED = ['id', 'email_address', 'first_name', 'created_at', 'canceled_at'];

/**
 * `updated_after` takes a date (yyyy-mm-dd) and Kit does not say whether that day is included:
 * asking from the day before the watermark covers the watermark's day either way, and the
 * unchanged-row check absorbs the subscribers seen again.
 */
const DAY_MS = 86_400_000;

/**
 * A pass lists one state at a time, in this order: Kit sends `canceled_at` (the date a
 * subscriber unsubscribed) only to a `status=cancelled` listing, so `status=all` would leave
 * every unsubscribed Kit subscriber without its date. `inactive` is listed last only to be
 * counted as skipped (not stored). The states are disjoint, so each subscriber comes once.
 */
const PASS_STATUSES = ['active', 'cancelled', 'bounced', 'complained', 'inactive'] as const;
type PassStatus = (typeof PASS_STATUSES)[number];

interface KitCursor {
  /** The state being listed. */
  status: PassStatus;
  /** Kit's end_cursor within that state; absent at the state's first page. */
  after?: string;
  /** The `updated_after` date of an incremental pass; absent for a full pass. */
  since?: string;
}

/**
 * Kit (ConvertKit) API v4: `X-Kit-Api-Key: <key>`. Kit has no lists for subscribers, so an
 * account is one list whose id is the account id; `publicationId` is optional and, when given,
 * `validate` checks it is that account. Every listing names its `status` (Kit's default is
 * `active`: counts send `all`, a pass lists state by state) and pages while
 * `pagination.has_next_page`, with `after=end_cursor`.
 */
export class KitClient implements EspClient {
  readonly espType = ESP;
  readonly changeFilter = 'date';
  private readonly http: EspHttpClient;

  constructor(
    private readonly baseUrl: string,
    http: EspHttpOptions,
  ) {
    this.http = new EspHttpClient(ESP, http);
  }

  async listPublications(apiKey: string): Promise<EspList[]> {
    const account = await this.account({ apiKey });
    const [total, syncable] = await settleAll([
      this.countSubscribers({ apiKey }),
      this.countSyncable({ apiKey }),
    ]);
    return [{ ...account, subscriberCount: syncable, total }];
  }

  validate(credentials: EspCredentials): Promise<EspValidation> {
    return runValidation(async () => {
      const account = await this.account(credentials);
      const wanted = credentials.publicationId?.trim();
      if (wanted && wanted !== account.id) {
        throw new NotFoundError(ESP, 'the list id is not the account id of this key');
      }
      return { publicationId: account.id, publicationName: account.name };
    });
  }

  countSubscribers(credentials: EspCredentials): Promise<number> {
    return this.countStatus(credentials, 'all');
  }

  /** Every state but `inactive`, the one a sync does not store. */
  async countSyncable(credentials: EspCredentials): Promise<number> {
    const [all, inactive] = await settleAll([
      this.countStatus(credentials, 'all'),
      this.countStatus(credentials, 'inactive'),
    ]);
    return Math.max(0, all - inactive);
  }

  async fetchPage(
    credentials: EspCredentials,
    cursor: string | null,
    options: PassOptions = {},
  ): Promise<SubscriberPage> {
    const since = options.changedSince ? updatedAfter(options.changedSince) : undefined;
    const from: KitCursor = cursor === null ? { status: PASS_STATUSES[0] } : readCursor(cursor);
    if (cursor !== null && from.since !== since) {
      throw new InvalidCursorError(ESP, 'the cursor belongs to a pass with another change filter');
    }
    const { body, serverDate } = await this.get(
      credentials,
      '/subscribers',
      {
        per_page: KIT_PAGE_SIZE,
        status: from.status,
        // Kit includes canceled_at only for status=cancelled: unsubscribed subscribers' dates.
        include: from.status === 'cancelled' ? 'canceled_at' : undefined,
        updated_after: since,
        after: from.after,
      },
      'background',
    );

    const data = readArray(ESP, body.subscribers, 'subscribers');
    const subscribers: EspSubscriber[] = [];
    data.forEach((raw, i) => {
      const subscriber = mapKitSubscriber(raw, `subscribers[${i}]`);
      if (subscriber) subscribers.push(subscriber);
    });
    const skipped = data.length - subscribers.length;

    const page = readObject(ESP, body.pagination, 'pagination');
    if (typeof page.has_next_page !== 'boolean') {
      throw new ProtocolError(ESP, 'pagination.has_next_page is missing');
    }
    let next: KitCursor | null;
    // Loop on has_next_page, never on the cursor: Kit returns end_cursor on the last page too.
    if (page.has_next_page) {
      const after = readString(ESP, page.end_cursor, 'pagination.end_cursor');
      if (after === from.after) throw new ProtocolError(ESP, 'end_cursor did not advance');
      next = { status: from.status, after };
    } else {
      const following = PASS_STATUSES[PASS_STATUSES.indexOf(from.status) + 1];
      next = following === undefined ? null : { status: following };
    }
    if (next === null) return { subscribers, skipped, nextCursor: null, serverDate };
    if (since !== undefined) next.since = since;
    return { subscribers, skipped, nextCursor: encodeCursor(ESP, { ...next }), serverDate };
  }

  streamSubscribers(
    credentials: EspCredentials,
    cursor: string | null = null,
    options: PassOptions = {},
  ) {
    return streamPages((c) => this.fetchPage(credentials, c, options), cursor);
  }

  private async countStatus(credentials: EspCredentials, status: string): Promise<number> {
    const { body } = await this.get(credentials, '/subscribers', {
      per_page: 1,
      include_total_count: 'true',
      status,
    });
    // The docs place total_count "in the response"; we have seen it under pagination.
    const page = isJson(body.pagination) ? body.pagination : {};
    return readCount(ESP, page.total_count ?? body.total_count, 'total_count');
  }

  private async account(credentials: EspCredentials): Promise<{ id: string; name: string }> {
    const { body } = await this.get(credentials, '/account');
    const account = readObject(ESP, body.account, 'account');
    return {
      id: readId(ESP, account.id, 'account.id'),
      name: readString(ESP, account.name, 'account.name'),
    };
  }

  /**
   * An API key goes in X-Kit-Api-Key, an OAuth token as Bearer; each has its own request budget
   * (120 and 600 per minute by default).
   */
  private async get(
    credentials: Pick<EspCredentials, 'apiKey' | 'kind'>,
    path: string,
    query?: Record<string, QueryValue>,
    priority: EspCallPriority = 'interactive',
  ) {
    const key = usableApiKey(ESP, credentials.apiKey);
    const kind: EspCredentialKind = credentials.kind ?? 'api-key';
    const authorization = `Bearer ${key}`;
    const response = await this.http.get(this.baseUrl, {
      path,
      query,
      headers: kind === 'oauth' ? { authorization } : { 'x-kit-api-key': key },
      secrets: [key, authorization],
      budget: { credential: key, kind, priority },
    });
    return {
      body: readObject(ESP, response.body, 'response body'),
      serverDate: response.serverDate,
    };
  }
}

/** The `updated_after` date for a pass of changes since `since`: the day before, in UTC. */
export function updatedAfter(since: Date): string {
  return new Date(since.getTime() - DAY_MS).toISOString().slice(0, 10);
}

/** One Kit subscriber in our model, or null when its state is one we do not sync. */
export function mapKitSubscriber(raw: unknown, where = 'subscriber'): EspSubscriber | null {
  const record = readObject(ESP, raw, where);
  const status = mapStatus(ESP, STATUSES, record.state, `${where}.state`);
  if (status === null) return null;
  const fields: Json = isJson(record.fields) ? record.fields : {};
  return {
    externalId: readId(ESP, record.id, `${where}.id`),
    email: readString(ESP, record.email_address, `${where}.email_address`),
    status,
    firstName: optionalText(record.first_name),
    // Only when the account has a `last_name` custom field.
    lastName: optionalText(fields.last_name),
    subscribedAt: isoDate(record.created_at),
    // Present only in a `status=cancelled` listing with `include=canceled_at` (fetchPage).
    unsubscribedAt: isoDate(record.canceled_at),
    metadata: metadataOf(record, CONSUMED),
  };
}

function readCursor(cursor: string): KitCursor {
  return decodeCursor(ESP, cursor, (s) => {
    const status = PASS_STATUSES.find((value) => value === s.status);
    if (status === undefined) return null;
    if (s.after !== undefined && (typeof s.after !== 'string' || s.after === '')) return null;
    if (s.since !== undefined && typeof s.since !== 'string') return null;
    const read: KitCursor = { status };
    if (s.after !== undefined) read.after = s.after;
    if (s.since !== undefined) read.since = s.since;
    return read;
  });
}
