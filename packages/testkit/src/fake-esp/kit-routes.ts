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
import { kitAccount, KIT_STATUS_FILTERS, kitSubscriber } from './kit-resources';

const MAX_PER_PAGE = 1000;
const SORT_FIELDS = new Set(['id', 'created_at', 'updated_at', 'cancelled_at']);

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
  readonly maxInFlight = Number.POSITIVE_INFINITY;

  constructor(private readonly registry: FakeEspRegistry) {}

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

    let indices: number[];
    const email = queryValue(request, 'email_address');
    if (email !== undefined) {
      const index = list.indexOfEmail(email);
      indices = index !== undefined && list.matches(index, mask) ? [index] : [];
    } else if (anchorId === undefined) {
      indices = list.collect(step > 0 ? 0 : list.indexLimit - 1, step, mask, perPage);
    } else if (after !== undefined) {
      indices = list.collect(anchorId - KIT_ID_OFFSET + step, step, mask, perPage);
    } else {
      const backwards = step > 0 ? -1 : 1;
      indices = list.collect(anchorId - KIT_ID_OFFSET + backwards, backwards, mask, perPage);
      indices.reverse();
    }

    const first = indices[0];
    const last = indices[indices.length - 1];
    const exists = (from: number, direction: 1 | -1): boolean =>
      list.next(from, direction, mask) !== undefined;
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
      pagination.total_count = email !== undefined ? indices.length : list.count(mask);
    }
    const include = new Set(queryValues(request, 'include'));
    return {
      status: 200,
      body: {
        subscribers: indices.map((index) => kitSubscriber(list, list.record(index), include)),
        pagination,
      },
    };
  }
}
