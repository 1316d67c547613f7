import type { SubscriberStatus } from '../entities/subscriber.entity';
import {
  EspClient,
  EspCredentials,
  EspList,
  EspSubscriber,
  EspValidation,
  SubscriberPage,
  requirePublicationId,
  streamPages,
  runValidation,
} from './esp-client';
import { decodeCursor, encodeCursor } from './esp-cursor';
import { InvalidCursorError, ProtocolError } from './esp-errors';
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
        'expand[]': ['stats'],
      });
      const data = readArray(ESP, body.data, 'publications data');
      data.forEach((item, i) => {
        const publication = readObject(ESP, item, `data[${i}]`);
        const stats = isJson(publication.stats) ? publication.stats : {};
        lists.push({
          id: readId(ESP, publication.id, `data[${i}].id`),
          name: readString(ESP, publication.name, `data[${i}].name`),
          // The spec types each stat as number or boolean.
          subscriberCount:
            typeof stats.active_subscriptions === 'number' ? stats.active_subscriptions : 0,
        });
      });
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

  async countSubscribers(credentials: EspCredentials): Promise<number> {
    const body = await this.get(credentials.apiKey, this.subscriptionsPath(credentials), {
      limit: 1,
      status: 'all',
      include_total: 'true',
    });
    return readCount(ESP, pagination(body, 'total_results'), 'total_results');
  }

  async fetchPage(credentials: EspCredentials, cursor: string | null): Promise<SubscriberPage> {
    const list = requirePublicationId(ESP, credentials);
    const from = cursor === null ? null : readCursor(cursor, list);
    const body = await this.get(credentials.apiKey, this.subscriptionsPath(credentials), {
      limit: BEEHIIV_PAGE_SIZE,
      status: 'all',
      'expand[]': ['custom_fields'],
      cursor: from?.cursor,
    });

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
    if (!more) return { subscribers, skipped: data.length - subscribers.length, nextCursor: null };
    if (typeof next !== 'string' || next === '') {
      throw new ProtocolError(ESP, 'has_more is true but next_cursor is missing');
    }
    if (next === from?.cursor) throw new ProtocolError(ESP, 'next_cursor did not advance');
    return {
      subscribers,
      skipped: data.length - subscribers.length,
      nextCursor: encodeCursor(ESP, { list, cursor: next } satisfies BeehiivCursor),
    };
  }

  streamSubscribers(credentials: EspCredentials, cursor: string | null = null) {
    return streamPages((c) => this.fetchPage(credentials, c), cursor);
  }

  private subscriptionsPath(credentials: EspCredentials): string {
    const id = requirePublicationId(ESP, credentials);
    return `/publications/${encodeURIComponent(id)}/subscriptions`;
  }

  private async get(apiKey: string, path: string, query?: Record<string, QueryValue>) {
    const key = usableApiKey(ESP, apiKey);
    const authorization = `Bearer ${key}`;
    const body = await this.http.getJson(this.baseUrl, {
      path,
      query,
      headers: { authorization },
      secrets: [key, authorization],
    });
    return readObject(ESP, body, 'response body');
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
