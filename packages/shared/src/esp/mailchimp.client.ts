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
import { InvalidCredentialsError, InvalidCursorError } from './esp-errors';
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

const ESP = 'mailchimp';
/** Mailchimp's maximum `count`. */
export const MAILCHIMP_PAGE_SIZE = 1000;
/** Real data centres look like us6, eu1. */
const DATA_CENTRE = /^[a-z]{2,}[0-9]+$/i;

/** pending, transactional and archived are not synced. */
const STATUSES: Readonly<Record<string, SubscriberStatus>> = {
  subscribed: 'active',
  unsubscribed: 'unsubscribed',
  cleaned: 'bounced',
};
// timestamps and last_changed stay in metadata; _links is hypermedia noise.
const CONSUMED = ['id', 'email_address', 'status', '_links'];
/** Per-member `_links` roughly doubles a page's size and tells us nothing. */
const EXCLUDED_FIELDS = '_links,members._links';

interface MailchimpCursor {
  list: string;
  offset: number;
}

/**
 * Mailchimp Marketing API 3.0: HTTP Basic with the key as password, on the data centre named
 * by the key's suffix (`…-us6` → us6, substituted for `{dc}` in the base URL). Members are
 * paged by offset: `count=1000&offset=N`, N += members on the page, until N ≥ total_items or a
 * page is empty.
 */
export class MailchimpClient implements EspClient {
  readonly espType = ESP;
  private readonly http: EspHttpClient;

  /** @param baseUrl may contain `{dc}`, replaced by the key's data centre. */
  constructor(
    private readonly baseUrl: string,
    http: EspHttpOptions,
  ) {
    this.http = new EspHttpClient(ESP, http);
  }

  async listPublications(apiKey: string): Promise<EspList[]> {
    const lists: EspList[] = [];
    for (let offset = 0; ;) {
      const body = await this.get(apiKey, '/lists', {
        count: MAILCHIMP_PAGE_SIZE,
        offset,
        fields: 'lists.id,lists.name,lists.stats.member_count,total_items',
      });
      const page = readArray(ESP, body.lists, 'lists');
      page.forEach((item, i) => {
        const list = readObject(ESP, item, `lists[${i}]`);
        const stats = isJson(list.stats) ? list.stats : {};
        lists.push({
          id: readId(ESP, list.id, `lists[${i}].id`),
          name: readString(ESP, list.name, `lists[${i}].name`),
          subscriberCount: typeof stats.member_count === 'number' ? stats.member_count : 0,
        });
      });
      offset += page.length;
      if (page.length === 0 || offset >= readCount(ESP, body.total_items, 'total_items')) break;
    }
    return lists;
  }

  validate(credentials: EspCredentials): Promise<EspValidation> {
    return runValidation(async () => {
      const id = requirePublicationId(ESP, credentials);
      const body = await this.get(credentials.apiKey, `/lists/${encodeURIComponent(id)}`, {
        fields: 'id,name',
      });
      return {
        publicationId: readId(ESP, body.id, 'id'),
        publicationName: readString(ESP, body.name, 'name'),
      };
    });
  }

  async countSubscribers(credentials: EspCredentials): Promise<number> {
    const body = await this.get(credentials.apiKey, this.membersPath(credentials), {
      count: 1,
      fields: 'total_items',
    });
    return readCount(ESP, body.total_items, 'total_items');
  }

  async fetchPage(credentials: EspCredentials, cursor: string | null): Promise<SubscriberPage> {
    const list = requirePublicationId(ESP, credentials);
    const offset = cursor === null ? 0 : readCursor(cursor, list).offset;
    const body = await this.get(credentials.apiKey, this.membersPath(credentials), {
      count: MAILCHIMP_PAGE_SIZE,
      offset,
      exclude_fields: EXCLUDED_FIELDS,
    });

    const members = readArray(ESP, body.members, 'members');
    const total = readCount(ESP, body.total_items, 'total_items');
    const subscribers: EspSubscriber[] = [];
    members.forEach((raw, i) => {
      const subscriber = mapMailchimpMember(raw, `members[${i}]`);
      if (subscriber) subscribers.push(subscriber);
    });

    const next = offset + members.length;
    const done = members.length === 0 || next >= total;
    return {
      subscribers,
      skipped: members.length - subscribers.length,
      nextCursor: done ? null : encodeCursor(ESP, { list, offset: next } satisfies MailchimpCursor),
    };
  }

  streamSubscribers(credentials: EspCredentials, cursor: string | null = null) {
    return streamPages((c) => this.fetchPage(credentials, c), cursor);
  }

  private membersPath(credentials: EspCredentials): string {
    return `/lists/${encodeURIComponent(requirePublicationId(ESP, credentials))}/members`;
  }

  private async get(apiKey: string, path: string, query?: Record<string, QueryValue>) {
    const key = usableApiKey(ESP, apiKey);
    const token = Buffer.from(`subscribernest:${key}`).toString('base64');
    const authorization = `Basic ${token}`;
    const body = await this.http.getJson(this.baseUrl.replaceAll('{dc}', dataCentre(key)), {
      path,
      query,
      headers: { authorization },
      secrets: [key, token, authorization],
    });
    return readObject(ESP, body, 'response body');
  }
}

/** The data centre is the key's suffix after the last '-': `…-us6` → `us6`. */
export function dataCentre(apiKey: string): string {
  const dc = apiKey.slice(apiKey.lastIndexOf('-') + 1);
  if (!apiKey.includes('-') || !DATA_CENTRE.test(dc)) {
    throw new InvalidCredentialsError(
      ESP,
      'the API key does not end in a data centre (like …-us6)',
    );
  }
  return dc.toLowerCase();
}

/** One Mailchimp member in our model, or null when its status is one we do not sync. */
export function mapMailchimpMember(raw: unknown, where = 'member'): EspSubscriber | null {
  const record = readObject(ESP, raw, where);
  const status = mapStatus(ESP, STATUSES, record.status, `${where}.status`);
  if (status === null) return null;
  const merge: Json = isJson(record.merge_fields) ? record.merge_fields : {};
  return {
    externalId: readId(ESP, record.id, `${where}.id`),
    email: readString(ESP, record.email_address, `${where}.email_address`),
    status,
    firstName: optionalText(merge.FNAME),
    lastName: optionalText(merge.LNAME),
    // Unknown dates are "", not null.
    subscribedAt: isoDate(record.timestamp_opt) ?? isoDate(record.timestamp_signup),
    // Mailchimp has no unsubscribe date; last_changed is the closest stand-in.
    unsubscribedAt: status === 'unsubscribed' ? isoDate(record.last_changed) : null,
    metadata: metadataOf(record, CONSUMED),
  };
}

function readCursor(cursor: string, list: string): MailchimpCursor {
  const state = decodeCursor(ESP, cursor, (s) =>
    typeof s.list === 'string' && typeof s.offset === 'number' && Number.isSafeInteger(s.offset)
      ? s.offset >= 0
        ? { list: s.list, offset: s.offset }
        : null
      : null,
  );
  if (state.list !== list) throw new InvalidCursorError(ESP, 'the cursor belongs to another list');
  return state;
}
