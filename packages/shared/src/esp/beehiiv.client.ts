import type { SubscriberStatus } from '../entities/subscriber.entity';
import {
  EspClient,
  EspCredentials,
  EspList,
  EspSubscriber,
  EspValidation,
  PassOptions,
  SubscriberPage,
  requirePublicationId,
  streamPages,
  sumOfStatusCounts,
  runValidation,
} from './esp-client';
import { decodeCursor, encodeCursor } from './esp-cursor';
import { InvalidCursorError, ProtocolError } from './esp-errors';
import type { EspCallPriority } from './budget/esp-rate-budget';
import { EspHttpClient, EspHttpOptions, QueryValue, usableApiKey } from './esp-http.client';
import {
  Json,
  isJson,
  mapStatus,
  metadataOf,
  optionalText,
  readArray,
  readCount,
  readId,
  readObject,
  readString,
  unixSeconds,
} from './esp-payload';
import { settleAll } from './settle-all';

const ESP = 'beehiiv';
/** beehiiv's maximum `limit`. */
export const BEEHIIV_PAGE_SIZE = 100;
/** `GET /publications` is page-based, and beehiiv blocks `page` beyond 100. */
const MAX_PUBLICATION_PAGES = 100;

/** validating, pending, needs_attention and paused are not synced. */
const STATUSES: Readonly<Record<string, SubscriberStatus>> = {
  active: 'active',
  inactive: 'unsubscribed',
  invalid: 'bounced', // our choice: beehiiv's "invalid" addresses cannot receive mail
};
const CONSUMED = ['id', 'email', 'status', 'created'];
/** The `status` filters of the statuses a sync stores. */
const SYNCABLE_STATUSES = Object.keys(STATUSES);
const FIRST_NAME_FIELDS = new Set(['firstname', 'fname', 'first']);
const LAST_NAME_FIELDS = new Set(['lastname', 'lname', 'last', 'surname']);

interface BeehiivCursor {
  list: string;
  cursor: string;
}

/**
 * beehiiv API v2: `Authorization: Bearer <key>`, cursor pagination on
 * `GET /publications/{id}/subscriptions` (`limit=100`, `cursor=next_cursor` while `has_more`),
 * reading the pagination fields at the top level or under `pagination` (the docs disagree).
 */
export class BeehiivClient implements EspClient {
  readonly espType = ESP;
  /** beehiiv has no updated-since filter: every pass is a full one. */
  readonly changeFilter = null;
  private readonly http: EspHttpClient;

  constructor(
    private readonly baseUrl: string,
    http: EspHttpOptions,
  ) {
    this.http = new EspHttpClient(ESP, http);
  }

  async listPublications(apiKey: string): Promise<EspList[]> {
    const lists: EspList[] = [];
    for (let page = 1; page <= MAX_PUBLICATION_PAGES; page++) {
      const body = await this.get(apiKey, '/publications', {
        limit: BEEHIIV_PAGE_SIZE,
        page,
      });
      const data = readArray(ESP, body.data, 'publications data');
      for (const [i, item] of data.entries()) {
        const publication = readObject(ESP, item, `data[${i}]`);
        const id = readId(ESP, publication.id, `data[${i}].id`);
        // Counted by status, as countSyncable does: the stats count active subscriptions only.
        const [total, subscriberCount] = await settleAll([
          this.countSubscribers({ apiKey, publicationId: id }),
          this.countSyncable({ apiKey, publicationId: id }),
        ]);
        lists.push({
          id,
          name: readString(ESP, publication.name, `data[${i}].name`),
          subscriberCount,
          total,
        });
      }
      const totalPages = pagination(body, 'total_pages');
      if (data.length === 0 || typeof totalPages !== 'number' || page >= totalPages) break;
    }
    return lists;
  }

  validate(credentials: EspCredentials): Promise<EspValidation> {
    return runValidation(async () => {
      const id = requirePublicationId(ESP, credentials);
      const body = await this.get(credentials.apiKey, `/publications/${encodeURIComponent(id)}`);
      const data = readObject(ESP, body.data, 'publication data');
      return {
        publicationId: readId(ESP, data.id, 'data.id'),
        publicationName: readString(ESP, data.name, 'data.name'),
      };
    });
  }

  countSubscribers(credentials: EspCredentials): Promise<number> {
    return this.countStatus(credentials, 'all');
  }

  countSyncable(credentials: EspCredentials): Promise<number> {
    return sumOfStatusCounts(SYNCABLE_STATUSES, (status) => this.countStatus(credentials, status));
  }

  async fetchPage(
    credentials: EspCredentials,
    cursor: string | null,
    options: PassOptions = {},
  ): Promise<SubscriberPage> {
    if (options.changedSince) {
      throw new Error('beehiiv has no change filter: a beehiiv pass is always a full one');
    }
    const list = requirePublicationId(ESP, credentials);
    const from = cursor === null ? null : readCursor(cursor, list);
    const { body, serverDate } = await this.getWithDate(
      credentials.apiKey,
      this.subscriptionsPath(credentials),
      {
        limit: BEEHIIV_PAGE_SIZE,
        status: 'all',
        'expand[]': ['custom_fields'],
        cursor: from?.cursor,
      },
      'background',
    );

    const data = readArray(ESP, body.data, 'subscriptions data');
    const subscribers: EspSubscriber[] = [];
    data.forEach((raw, i) => {
      const subscriber = mapBeehiivSubscription(raw, `data[${i}]`);
      if (subscriber) subscribers.push(subscriber);
    });

    const next = pagination(body, 'next_cursor');
    const hasMore = pagination(body, 'has_more');
    // has_more is authoritative; without it, a next cursor means there is more.
    const more = typeof hasMore === 'boolean' ? hasMore : typeof next === 'string' && next !== '';
    if (!more) {
      return {
        subscribers,
        skipped: data.length - subscribers.length,
        nextCursor: null,
        serverDate,
      };
    }
    if (typeof next !== 'string' || next === '') {
      throw new ProtocolError(ESP, 'has_more is true but next_cursor is missing');
    }
    if (next === from?.cursor) throw new ProtocolError(ESP, 'next_cursor did not advance');
    return {
      subscribers,
      skipped: data.length - subscribers.length,
      nextCursor: encodeCursor(ESP, { list, cursor: next } satisfies BeehiivCursor),
      serverDate,
    };
  }

  streamSubscribers(
    credentials: EspCredentials,
    cursor: string | null = null,
    options: PassOptions = {},
  ) {
    return streamPages((c) => this.fetchPage(credentials, c, options), cursor);
  }

  private async countStatus(credentials: EspCredentials, status: string): Promise<number> {
    const body = await this.get(credentials.apiKey, this.subscriptionsPath(credentials), {
      limit: 1,
      status,
      include_total: 'true',
    });
    return readCount(ESP, pagination(body, 'total_results'), 'total_results');
  }

  private subscriptionsPath(credentials: EspCredentials): string {
    const id = requirePublicationId(ESP, credentials);
    return `/publications/${encodeURIComponent(id)}/subscriptions`;
  }

  private async get(apiKey: string, path: string, query?: Record<string, QueryValue>) {
    return (await this.getWithDate(apiKey, path, query)).body;
  }

  /**
   * Every call takes from the key's budget, which follows beehiiv's RateLimit-* headers;
   * `background` (a sync's pages) leaves part of it to live calls.
   */
  private async getWithDate(
    apiKey: string,
    path: string,
    query?: Record<string, QueryValue>,
    priority: EspCallPriority = 'interactive',
  ) {
    const key = usableApiKey(ESP, apiKey);
    const authorization = `Bearer ${key}`;
    const response = await this.http.get(this.baseUrl, {
      path,
      query,
      headers: { authorization },
      secrets: [key, authorization],
      budget: { credential: key, kind: 'api-key', priority },
    });
    return {
      body: readObject(ESP, response.body, 'response body'),
      serverDate: response.serverDate,
    };
  }
}

/** One beehiiv subscription in our model, or null when its status is one we do not sync. */
export function mapBeehiivSubscription(raw: unknown, where = 'subscription'): EspSubscriber | null {
  const record = readObject(ESP, raw, where);
  const status = mapStatus(ESP, STATUSES, record.status, `${where}.status`);
  if (status === null) return null;
  const names = namesFromCustomFields(record.custom_fields);
  return {
    externalId: readId(ESP, record.id, `${where}.id`),
    email: readString(ESP, record.email, `${where}.email`),
    status,
    firstName: names.firstName,
    lastName: names.lastName,
    subscribedAt: unixSeconds(record.created),
    unsubscribedAt: null,
    metadata: metadataOf(record, CONSUMED),
  };
}

/** beehiiv has no name fields; publications that collect names do so as custom fields. */
function namesFromCustomFields(fields: unknown) {
  const names = { firstName: null as string | null, lastName: null as string | null };
  if (!Array.isArray(fields)) return names;
  for (const field of fields) {
    if (!isJson(field) || typeof field.name !== 'string') continue;
    const name = field.name.toLowerCase().replace(/[^a-z]/g, '');
    if (FIRST_NAME_FIELDS.has(name)) names.firstName ??= optionalText(field.value);
    else if (LAST_NAME_FIELDS.has(name)) names.lastName ??= optionalText(field.value);
  }
  return names;
}

/** A pagination field, at the top level (OpenAPI spec, SDK) or under `pagination` (the guide). */
function pagination(body: Json, field: string): unknown {
  return body[field] ?? (isJson(body.pagination) ? body.pagination[field] : undefined);
}

function readCursor(cursor: string, list: string): BeehiivCursor {
  const state = decodeCursor(ESP, cursor, (s) =>
    typeof s.list === 'string' && typeof s.cursor === 'string' && s.cursor !== ''
      ? { list: s.list, cursor: s.cursor }
      : null,
  );
  if (state.list !== list) {
    throw new InvalidCursorError(ESP, 'the cursor belongs to another publication');
  }
  return state;
}
