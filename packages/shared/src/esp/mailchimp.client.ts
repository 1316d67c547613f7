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
import { InvalidCredentialsError, InvalidCursorError } from './esp-errors';
import type { EspCallPriority } from './budget/esp-rate-budget';
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

/** The member statuses a sync stores (pending, transactional and archived are left out). */
const SYNCABLE_STATUSES = ['subscribed', 'unsubscribed', 'cleaned'];
/**
 * An incremental pass asks for changes since the watermark minus this: the watermark is the
 * Date of an answer (whole seconds, from a front end whose clock may differ from the one that
 * stamps last_changed). Members seen again are absorbed by the unchanged-row check.
 */
const SINCE_OVERLAP_MS = 5 * 60_000;

interface MailchimpCursor {
  list: string;
  offset: number;
  /** The `since_last_changed` of an incremental pass; absent for a full pass. */
  since?: string;
}

/**
 * Mailchimp Marketing API 3.0: HTTP Basic with the key as password, on the data centre named
 * by the key's suffix (`…-us6` → us6, substituted for `{dc}` in the base URL). Members are
 * paged by offset: `count=1000&offset=N`, N += members on the page, until N ≥ total_items or a
 * page is empty.
 */
export class MailchimpClient implements EspClient {
  readonly espType = ESP;
  readonly changeFilter = 'timestamp';
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
        fields: 'lists.id,lists.name,total_items',
      });
      const page = readArray(ESP, body.lists, 'lists');
      for (const [i, item] of page.entries()) {
        const list = readObject(ESP, item, `lists[${i}]`);
        const id = readId(ESP, list.id, `lists[${i}].id`);
        // Counted member by status, as countSyncable does: `stats.member_count` is subscribed only.
        const [total, subscriberCount] = await settleAll([
          this.countSubscribers({ apiKey, publicationId: id }),
          this.countSyncable({ apiKey, publicationId: id }),
        ]);
        lists.push({
          id,
          name: readString(ESP, list.name, `lists[${i}].name`),
          subscriberCount,
          total,
        });
      }
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

  countSubscribers(credentials: EspCredentials): Promise<number> {
    return this.countMembers(credentials);
  }

  countSyncable(credentials: EspCredentials): Promise<number> {
    return sumOfStatusCounts(SYNCABLE_STATUSES, (status) => this.countMembers(credentials, status));
  }

  async fetchPage(
    credentials: EspCredentials,
    cursor: string | null,
    options: PassOptions = {},
  ): Promise<SubscriberPage> {
    const list = requirePublicationId(ESP, credentials);
    const since = options.changedSince
      ? new Date(options.changedSince.getTime() - SINCE_OVERLAP_MS).toISOString()
      : undefined;
    const from = cursor === null ? null : readCursor(cursor, list);
    if (from && from.since !== since) {
      throw new InvalidCursorError(ESP, 'the cursor belongs to a pass with another change filter');
    }
    const offset = from?.offset ?? 0;
    const { body, serverDate } = await this.getWithDate(
      credentials.apiKey,
      this.membersPath(credentials),
      {
        count: MAILCHIMP_PAGE_SIZE,
        offset,
        exclude_fields: EXCLUDED_FIELDS,
        since_last_changed: since,
      },
      'background',
    );

    const members = readArray(ESP, body.members, 'members');
    const total = readCount(ESP, body.total_items, 'total_items');
    const subscribers: EspSubscriber[] = [];
    members.forEach((raw, i) => {
      const subscriber = mapMailchimpMember(raw, `members[${i}]`);
      if (subscriber) subscribers.push(subscriber);
    });

    const next = offset + members.length;
    const done = members.length === 0 || next >= total;
    const state: MailchimpCursor =
      since === undefined ? { list, offset: next } : { list, offset: next, since };
    return {
      subscribers,
      skipped: members.length - subscribers.length,
      nextCursor: done ? null : encodeCursor(ESP, { ...state }),
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

  private async countMembers(credentials: EspCredentials, status?: string): Promise<number> {
    const body = await this.get(credentials.apiKey, this.membersPath(credentials), {
      count: 1,
      fields: 'total_items',
      status,
    });
    return readCount(ESP, body.total_items, 'total_items');
  }

  private membersPath(credentials: EspCredentials): string {
    return `/lists/${encodeURIComponent(requirePublicationId(ESP, credentials))}/members`;
  }

  private async get(apiKey: string, path: string, query?: Record<string, QueryValue>) {
    return (await this.getWithDate(apiKey, path, query)).body;
  }

  /** `background` for a sync's pages, which leave part of the budget to live calls. */
  private async getWithDate(
    apiKey: string,
    path: string,
    query?: Record<string, QueryValue>,
    priority: EspCallPriority = 'interactive',
  ) {
    const key = usableApiKey(ESP, apiKey);
    const token = Buffer.from(`subscribernest:${key}`).toString('base64');
    const authorization = `Basic ${token}`;
    const response = await this.http.get(this.baseUrl.replaceAll('{dc}', dataCentre(key)), {
      path,
      query,
      headers: { authorization },
      secrets: [key, token, authorization],
      budget: { credential: key, kind: 'api-key', priority },
    });
    return {
      body: readObject(ESP, response.body, 'response body'),
      serverDate: response.serverDate,
    };
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
  const state = decodeCursor(ESP, cursor, (s): MailchimpCursor | null => {
    if (typeof s.list !== 'string' || typeof s.offset !== 'number') return null;
    if (!Number.isSafeInteger(s.offset) || s.offset < 0) return null;
    if (s.since === undefined) return { list: s.list, offset: s.offset };
    return typeof s.since === 'string' ? { list: s.list, offset: s.offset, since: s.since } : null;
  });
  if (state.list !== list) throw new InvalidCursorError(ESP, 'the cursor belongs to another list');
  return state;
}
