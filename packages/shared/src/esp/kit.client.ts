import type { SubscriberStatus } from '../entities/subscriber.entity';
import {
  EspClient,
  EspCredentials,
  EspList,
  EspSubscriber,
  EspValidation,
  SubscriberPage,
  streamPages,
  runValidation,
} from './esp-client';
import { decodeCursor, encodeCursor } from './esp-cursor';
import { NotFoundError, ProtocolError } from './esp-errors';
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

interface KitCursor {
  after: string;
}

/**
 * Kit (ConvertKit) API v4: `X-Kit-Api-Key: <key>`. Kit has no lists for subscribers, so an
 * account is one list whose id is the account id; `publicationId` is optional and, when given,
 * `validate` checks it is that account. Every listing sends `status=all` (Kit's default is
 * `active`) and pages while `pagination.has_next_page`, with `after=end_cursor`.
 */
export class KitClient implements EspClient {
  readonly espType = ESP;
  private readonly http: EspHttpClient;

  constructor(
    private readonly baseUrl: string,
    http: EspHttpOptions,
  ) {
    this.http = new EspHttpClient(ESP, http);
  }

  async listPublications(apiKey: string): Promise<EspList[]> {
    const account = await this.account(apiKey);
    const subscriberCount = await this.countSubscribers({ apiKey });
    return [{ ...account, subscriberCount }];
  }

  validate(credentials: EspCredentials): Promise<EspValidation> {
    return runValidation(async () => {
      const account = await this.account(credentials.apiKey);
      const wanted = credentials.publicationId?.trim();
      if (wanted && wanted !== account.id) {
        throw new NotFoundError(ESP, 'the list id is not the account id of this key');
      }
      return { publicationId: account.id, publicationName: account.name };
    });
  }

  async countSubscribers(credentials: EspCredentials): Promise<number> {
    const body = await this.get(credentials.apiKey, '/subscribers', {
      per_page: 1,
      include_total_count: 'true',
      status: 'all',
    });
    // The docs place total_count "in the response"; we have seen it under pagination.
    const page = isJson(body.pagination) ? body.pagination : {};
    return readCount(ESP, page.total_count ?? body.total_count, 'total_count');
  }

  async fetchPage(credentials: EspCredentials, cursor: string | null): Promise<SubscriberPage> {
    const from = cursor === null ? null : readCursor(cursor);
    const body = await this.get(credentials.apiKey, '/subscribers', {
      per_page: KIT_PAGE_SIZE,
      status: 'all',
      after: from?.after,
    });

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
    // Loop on has_next_page, never on the cursor: Kit returns end_cursor on the last page too.
    if (!page.has_next_page) return { subscribers, skipped, nextCursor: null };
    const after = readString(ESP, page.end_cursor, 'pagination.end_cursor');
    if (after === from?.after) throw new ProtocolError(ESP, 'end_cursor did not advance');
    return { subscribers, skipped, nextCursor: encodeCursor(ESP, { after } satisfies KitCursor) };
  }

  streamSubscribers(credentials: EspCredentials, cursor: string | null = null) {
    return streamPages((c) => this.fetchPage(credentials, c), cursor);
  }

  private async account(apiKey: string): Promise<{ id: string; name: string }> {
    const body = await this.get(apiKey, '/account');
    const account = readObject(ESP, body.account, 'account');
    return {
      id: readId(ESP, account.id, 'account.id'),
      name: readString(ESP, account.name, 'account.name'),
    };
  }

  private async get(apiKey: string, path: string, query?: Record<string, QueryValue>) {
    const key = usableApiKey(ESP, apiKey);
    const body = await this.http.getJson(this.baseUrl, {
      path,
      query,
      headers: { 'x-kit-api-key': key },
      secrets: [key],
    });
    return readObject(ESP, body, 'response body');
  }
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
    // Present only when Kit includes it (`include=canceled_at`, which wants `status=cancelled`).
    unsubscribedAt: isoDate(record.canceled_at),
    metadata: metadataOf(record, CONSUMED),
  };
}

function readCursor(cursor: string): KitCursor {
  return decodeCursor(ESP, cursor, (s) =>
    typeof s.after === 'string' && s.after !== '' ? { after: s.after } : null,
  );
}
