import { STATUS_CODES } from 'node:http';
import {
  BEEHIIV_STATUS_FILTERS,
  BEEHIIV_TIER_FILTERS,
  beehiivPublication,
  beehiivSubscription,
} from './beehiiv-resources';
import { decodeBeehiivCursor, encodeBeehiivCursor } from './cursor-codec';
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
import { FakeAccount } from './fake-account';
import { FakeEspRegistry } from './fake-esp-registry';
import { FakeList } from './fake-list';

/** beehiiv's documented quota: what the headers report when no limit is enforced. */
const RATE_LIMIT = 180;
const MAX_PAGE = 100;

export function beehiivError(status: number, message: string, code: string): EspResponse {
  return {
    status,
    body: { status, statusText: STATUS_CODES[status] ?? 'Error', errors: [{ message, code }] },
  };
}

const badRequest = (message: string): EspResponse =>
  beehiivError(400, message, 'invalid_parameter');
const notFound = (message = 'Not Found'): EspRoute => ({
  handle: () => beehiivError(404, message, 'not_found'),
});

/**
 * beehiiv API v2 under /beehiiv/v2: Bearer auth, publications, and cursor-paginated
 * subscriptions with `has_more`/`next_cursor` at the top level or nested under `pagination`.
 */
export class BeehiivRoutes implements EspVendor<FakeAccount> {
  readonly esp = 'beehiiv' as const;

  constructor(
    private readonly registry: FakeEspRegistry,
    private readonly now: () => number = Date.now,
  ) {}

  matchPath(pathname: string): { path: string } | undefined {
    const match = /^\/beehiiv\/v2(\/.*)?$/.exec(pathname);
    return match ? { path: match[1] ?? '/' } : undefined;
  }

  authenticate(request: EspRequest): FakeAccount | EspResponse {
    const account = this.registry.accountByKey('beehiiv', bearerToken(request));
    return account ?? beehiivError(401, 'Invalid or missing API key', 'unauthorized');
  }

  /**
   * Counts the request in the account's fixed window. Over the limit: 429 with Remaining 0 and the
   * window's Reset (and Retry-After). Not enforced: the headers report the whole quota as left.
   */
  admit(request: EspRequest, account: FakeAccount): EspResponse | undefined {
    const now = this.now();
    const limit = account.limits.beehiiv;
    const resetEpochSeconds = account.window.resetEpochSeconds(now);
    if (!limit) {
      request.window = { limit: RATE_LIMIT, remaining: RATE_LIMIT, resetEpochSeconds };
      return undefined;
    }
    if (account.window.used(now) >= limit.requests) {
      const response = beehiivError(429, 'Too many requests', 'rate_limit_exceeded');
      response.headers = {
        'Retry-After': String(Math.max(1, Math.ceil(resetEpochSeconds - now / 1000))),
        'RateLimit-Limit': String(limit.requests),
        'RateLimit-Remaining': '0',
        'RateLimit-Reset': String(resetEpochSeconds),
      };
      return response;
    }
    const used = account.window.admit(now);
    account.noteWindow(used);
    request.window = { limit: limit.requests, remaining: limit.requests - used, resetEpochSeconds };
    return undefined;
  }

  route(request: EspRequest, account: FakeAccount): EspRoute {
    const segments = request.path.split('/').filter(Boolean).map(decodeURIComponent);
    if (request.method !== 'GET' || segments[0] !== 'publications' || segments.length > 3) {
      return notFound();
    }
    if (segments.length === 1) return { handle: () => this.publications(request, account) };
    const list = account.list(segments[1]);
    if (!list) return notFound('Publication not found');
    if (segments.length === 2) {
      return { list, handle: () => ({ status: 200, body: { data: publication(request, list) } }) };
    }
    if (segments[2] !== 'subscriptions') return notFound();
    return { list, handle: () => this.subscriptions(request, account, list) };
  }

  failure(failure: EspFailure): EspResponse {
    if (failure.kind === 'server-error') {
      return beehiivError(failure.status, 'Something went wrong', 'internal_server_error');
    }
    const { retryAfterSeconds, omitRetryAfter } = rateLimitHint(failure);
    const response = beehiivError(429, 'Too many requests', 'rate_limit_exceeded');
    response.headers = {
      ...(omitRetryAfter ? {} : { 'Retry-After': String(retryAfterSeconds) }),
      'RateLimit-Limit': String(RATE_LIMIT),
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': String(Math.ceil(this.now() / 1000) + retryAfterSeconds),
    };
    return response;
  }

  /** RateLimit-* on every response, from the window the request was admitted in. */
  finish(response: EspResponse, request: EspRequest): EspResponse {
    const window = request.window ?? {
      limit: RATE_LIMIT,
      remaining: RATE_LIMIT,
      resetEpochSeconds: Math.ceil((this.now() + 1) / 60_000) * 60,
    };
    response.headers = {
      'RateLimit-Limit': String(window.limit),
      'RateLimit-Remaining': String(window.remaining),
      'RateLimit-Reset': String(window.resetEpochSeconds),
      ...response.headers,
    };
    return response;
  }

  private publications(request: EspRequest, account: FakeAccount): EspResponse {
    const limit = intParam(request, 'limit', 10);
    const page = intParam(request, 'page', 1);
    if (!inRange(limit, 1, 100)) return badRequest('limit must be an integer from 1 to 100');
    if (!inRange(page, 1, Number.MAX_SAFE_INTEGER)) return badRequest('page must be 1 or more');
    const lists = account.lists.slice((page - 1) * limit, page * limit);
    return {
      status: 200,
      body: {
        data: lists.map((list) => publication(request, list)),
        limit,
        page,
        total_results: account.lists.length,
        total_pages: Math.ceil(account.lists.length / limit),
      },
    };
  }

  private subscriptions(request: EspRequest, account: FakeAccount, list: FakeList): EspResponse {
    const limit = intParam(request, 'limit', 10);
    if (!inRange(limit, 1, 100)) return badRequest('limit must be an integer from 1 to 100');
    const statusMask = BEEHIIV_STATUS_FILTERS[queryValue(request, 'status') ?? 'all'];
    if (statusMask === undefined) return badRequest('status is not a valid subscription status');
    const tierMask = BEEHIIV_TIER_FILTERS[queryValue(request, 'tier') ?? 'all'];
    if (tierMask === undefined) return badRequest('tier must be free, premium or all');
    if ((queryValue(request, 'order_by') ?? 'created') !== 'created') {
      return badRequest('order_by must be created');
    }
    const direction = queryValue(request, 'direction') ?? 'asc';
    if (direction !== 'asc' && direction !== 'desc') {
      return badRequest('direction must be asc or desc');
    }
    const step = direction === 'asc' ? 1 : -1;
    const mask = statusMask & tierMask;
    const expand = new Set(queryValues(request, 'expand[]', 'expand'));
    const serialize = (index: number): Record<string, unknown> =>
      beehiivSubscription(list, list.record(index), expand);
    const cursor = queryValue(request, 'cursor');
    const email = queryValue(request, 'email');

    if (queryValue(request, 'page') !== undefined && cursor === undefined && email === undefined) {
      const page = intParam(request, 'page', 1);
      if (!inRange(page, 1, MAX_PAGE)) {
        return badRequest(`page must be from 1 to ${MAX_PAGE}; use cursor-based pagination`);
      }
      const total = list.count(mask);
      const offset = (page - 1) * limit;
      const first = list.nth(step > 0 ? offset : total - 1 - offset, mask);
      const indices = first === undefined ? [] : list.collect(first, step, mask, limit);
      return {
        status: 200,
        body: {
          data: indices.map(serialize),
          limit,
          page,
          total_pages: Math.ceil(total / limit),
          total_results: total,
        },
      };
    }

    let indices: number[];
    let nextCursor: string | null = null;
    if (email !== undefined) {
      const index = list.indexOfEmail(email);
      indices = index !== undefined && list.matches(index, mask) ? [index] : [];
    } else {
      let start = step > 0 ? 0 : list.indexLimit - 1;
      if (cursor !== undefined) {
        const decoded = decodeBeehiivCursor(list.id, cursor);
        if (decoded === undefined) return badRequest('cursor is invalid');
        start = decoded;
      }
      indices = list.collect(start, step, mask, limit + 1);
      if (indices.length > limit) {
        indices.pop();
        nextCursor = encodeBeehiivCursor(list.id, indices[indices.length - 1] + step);
      }
    }
    const pagination: Record<string, unknown> = {
      limit,
      has_more: nextCursor !== null,
      next_cursor: nextCursor,
    };
    if (queryValue(request, 'include_total') === 'true') {
      pagination.total_results = email !== undefined ? indices.length : list.count(mask);
    }
    const data = indices.map(serialize);
    return {
      status: 200,
      body: account.beehiivPagination === 'nested' ? { data, pagination } : { data, ...pagination },
    };
  }
}

function publication(request: EspRequest, list: FakeList): Record<string, unknown> {
  return beehiivPublication(list, new Set(queryValues(request, 'expand[]', 'expand')));
}
