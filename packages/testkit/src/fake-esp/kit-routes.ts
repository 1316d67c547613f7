import { decodeKitCursor, encodeKitCursor } from './cursor-codec';
import {
  bearerToken,
  EspFailure,
  EspRequest,
  EspResponse,
  EspRoute,
  EspVendor,
  inRange,
  intParam,
  queryValue,
  queryValues,
  rateLimitHint,
} from './esp-http';
import { KIT_ID_OFFSET, kitSubscriberId } from './external-ids';
import { FakeAccount } from './fake-account';
import { FakeEspRegistry } from './fake-esp-registry';
import { FakeList } from './fake-list';
import { SortedIndices } from './sorted-indices';
import { kitAccount, KIT_STATUS_FILTERS, kitSubscriber } from './kit-resources';

const MAX_PER_PAGE = 1000;
const SORT_FIELDS = new Set(['id', 'created_at', 'updated_at', 'cancelled_at']);

/** What the subscriber listing pages through: the whole list, or what a change filter picked. */
interface IndexSource {
  collect(from: number, direction: 1 | -1, limit: number): number[];
  next(from: number, direction: 1 | -1): number | undefined;
  count(): number;
}

export function kitError(status: number, ...errors: string[]): EspResponse {
  return { status, body: { errors } };
}

/**
 * Kit API v4 under /kit/v4: X-Kit-Api-Key (or Bearer) auth, the account, and cursor-paginated
 * subscribers (default status active, newest id first). Every request touches the account's
 * single list.
 */
export class KitRoutes implements EspVendor<FakeAccount> {
  readonly esp = 'kit' as const;

  constructor(
    private readonly registry: FakeEspRegistry,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Counts the request in the rolling window of its credential (an API key in X-Kit-Api-Key, an
   * OAuth token as Bearer); over the limit: 429 with Retry-After (Kit documents no headers).
   */
  admit(request: EspRequest, account: FakeAccount): EspResponse | undefined {
    const limit = account.limits.kit;
    if (!limit || !account.rolling) return undefined;
    const now = this.now();
    const oauth = request.headers['x-kit-api-key'] === undefined;
    const window = oauth ? account.rolling.oauth : account.rolling.apiKey;
    const max = oauth ? limit.oauthRequests : limit.apiKeyRequests;
    if (window.used(now) >= max) {
      const response = kitError(429, 'Too many requests. Please try again later.');
      response.headers = { 'Retry-After': String(window.retryAfterSeconds(now)) };
      return response;
    }
    account.noteWindow(window.admit(now));
    return undefined;
  }

  matchPath(pathname: string): { path: string } | undefined {
    const match = /^\/kit\/v4(\/.*)?$/.exec(pathname);
    return match ? { path: match[1] ?? '/' } : undefined;
  }

  authenticate(request: EspRequest): FakeAccount | EspResponse {
    const key = request.headers['x-kit-api-key'] ?? bearerToken(request);
    return this.registry.accountByKey('kit', key) ?? kitError(401, 'The access token is invalid');
  }

  route(request: EspRequest, account: FakeAccount): EspRoute {
    const list = account.lists[0];
    const path = request.path.replace(/\/+$/, '');
    if (request.method === 'GET' && path === '/account') {
      return { list, handle: () => ({ status: 200, body: kitAccount(list) }) };
    }
    if (request.method === 'GET' && path === '/subscribers') {
      return { list, handle: () => this.subscribers(request, list) };
    }
    return { list, handle: () => kitError(404, 'Not Found') };
  }

  failure(failure: EspFailure): EspResponse {
    if (failure.kind === 'server-error') {
      return kitError(failure.status, 'Something went wrong. Please try again.');
    }
    const response = kitError(429, 'Too many requests. Please try again later.');
    const { retryAfterSeconds, omitRetryAfter } = rateLimitHint(failure);
    if (!omitRetryAfter) response.headers = { 'Retry-After': String(retryAfterSeconds) };
    return response;
  }

  finish(response: EspResponse): EspResponse {
    return response;
  }

  private subscribers(request: EspRequest, list: FakeList): EspResponse {
    const perPage = intParam(request, 'per_page', 500);
    if (!inRange(perPage, 1, MAX_PER_PAGE)) {
      return kitError(422, `per_page must be between 1 and ${MAX_PER_PAGE}`);
    }
    const status = queryValue(request, 'status') ?? 'active';
    const mask = KIT_STATUS_FILTERS[status];
    if (mask === undefined) return kitError(422, `status '${status}' is not a valid status`);
    const sortField = queryValue(request, 'sort_field') ?? 'id';
    if (!SORT_FIELDS.has(sortField)) return kitError(422, `sort_field '${sortField}' is invalid`);
    if (sortField === 'cancelled_at' && status !== 'cancelled') {
      return kitError(422, 'sort_field cancelled_at requires status=cancelled');
    }
    const sortOrder = queryValue(request, 'sort_order') ?? 'desc';
    if (sortOrder !== 'asc' && sortOrder !== 'desc') {
      return kitError(422, 'sort_order must be asc or desc');
    }
    const after = queryValue(request, 'after');
    const before = queryValue(request, 'before');
    if (after !== undefined && before !== undefined) {
      return kitError(422, 'Use either after or before, not both');
    }
    const cursor = after ?? before;
    const anchorId = cursor === undefined ? undefined : decodeKitCursor(cursor);
    if (cursor !== undefined && anchorId === undefined) return kitError(400, 'Invalid cursor');
    const step = sortOrder === 'asc' ? 1 : -1;
    const updatedAfter = queryValue(request, 'updated_after');
    let source: IndexSource = {
      collect: (from, direction, limit) => list.collect(from, direction, mask, limit),
      next: (from, direction) => list.next(from, direction, mask),
      count: () => list.count(mask),
    };
    if (updatedAfter !== undefined) {
      const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(updatedAfter);
      if (!day) return kitError(422, 'updated_after must be a date (yyyy-mm-dd)');
      // A date, so the strictest reading: subscribers updated on a later day than that one.
      const from = Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3])) / 1000 + 86_400;
      const changed = new SortedIndices(list.changedSince(from, mask));
      source = {
        collect: (start, direction, limit) => changed.collect(start, direction, limit),
        next: (start, direction) => changed.next(start, direction),
        count: () => changed.count,
      };
    }

    let indices: number[];
    const email = queryValue(request, 'email_address');
    if (email !== undefined) {
      const index = list.indexOfEmail(email);
      indices =
        index !== undefined && source.next(index, 1) === index && list.matches(index, mask)
          ? [index]
          : [];
    } else if (anchorId === undefined) {
      indices = source.collect(step > 0 ? 0 : list.indexLimit - 1, step, perPage);
    } else if (after !== undefined) {
      indices = source.collect(anchorId - KIT_ID_OFFSET + step, step, perPage);
    } else {
      const backwards = step > 0 ? -1 : 1;
      indices = source.collect(anchorId - KIT_ID_OFFSET + backwards, backwards, perPage);
      indices.reverse();
    }

    const first = indices[0];
    const last = indices[indices.length - 1];
    const exists = (from: number, direction: 1 | -1): boolean =>
      source.next(from, direction) !== undefined;
    const pagination: Record<string, unknown> = {
      has_previous_page:
        email === undefined &&
        (first !== undefined
          ? exists(first - step, step > 0 ? -1 : 1)
          : after !== undefined && anchorId !== undefined),
      has_next_page:
        email === undefined &&
        (last !== undefined
          ? exists(last + step, step)
          : before !== undefined && anchorId !== undefined),
      start_cursor: first === undefined ? null : encodeKitCursor(kitSubscriberId(first)),
      end_cursor: last === undefined ? null : encodeKitCursor(kitSubscriberId(last)),
      per_page: perPage,
    };
    if (queryValue(request, 'include_total_count') === 'true') {
      pagination.total_count = email !== undefined ? indices.length : source.count();
    }
    const include = new Set(queryValues(request, 'include'));
    // Kit sends canceled_at only to a status=cancelled listing (ESP-APIS.md, the mapping table).
    if (status !== 'cancelled') include.delete('canceled_at');
    return {
      status: 200,
      body: {
        subscribers: indices.map((index) => kitSubscriber(list, list.record(index), include)),
        pagination,
      },
    };
  }
}
