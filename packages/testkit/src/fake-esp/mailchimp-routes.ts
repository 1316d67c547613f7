import { randomUUID } from 'node:crypto';
import { ALL_CATEGORIES } from './category-block-index';
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
  rateLimitHint,
} from './esp-http';
import { FakeAccount } from './fake-account';
import { FakeEspRegistry } from './fake-esp-registry';
import { FakeList } from './fake-list';
import { projectFields, projectionKeeps } from './field-projection';
import { SortedIndices } from './sorted-indices';
import { MAILCHIMP_STATUS_FILTERS, mailchimpList, mailchimpMember } from './mailchimp-resources';

const MAX_COUNT = 1000;
const MAX_CONNECTIONS = 10;
const ERROR_TYPE = 'https://mailchimp.com/developer/marketing/docs/errors/';

/** Mailchimp's error: an RFC 7807 problem document. */
export function mailchimpProblem(status: number, title: string, detail: string): EspResponse {
  return {
    status,
    headers: { 'Content-Type': 'application/problem+json; charset=utf-8' },
    body: { type: ERROR_TYPE, title, status, detail, instance: randomUUID() },
  };
}

const keyInvalid = (): EspResponse =>
  mailchimpProblem(
    401,
    'API Key Invalid',
    "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
  );
const badRequest = (detail: string): EspResponse =>
  mailchimpProblem(400, 'Invalid Resource', detail);
const notFound = (): EspRoute => ({
  handle: () =>
    mailchimpProblem(404, 'Resource Not Found', 'The requested resource could not be found.'),
});

/**
 * Mailchimp Marketing API 3.0 under /mailchimp/{dc}/3.0: HTTP Basic (any user, the key as
 * password) or Bearer; the URL's data centre must match the key's suffix. Lists, offset-paginated
 * members, `fields`/`exclude_fields`, and at most 10 requests in flight per account.
 */
export class MailchimpRoutes implements EspVendor<FakeAccount> {
  readonly esp = 'mailchimp' as const;

  constructor(private readonly registry: FakeEspRegistry) {}

  /** At most `account.maxInFlight` (10 documented) requests in flight; one more answers 429. */
  admit(_request: EspRequest, account: FakeAccount): EspResponse | undefined {
    if (account.inFlight < account.maxInFlight) return undefined;
    return tooManyConnections(account.maxInFlight);
  }

  matchPath(pathname: string): { path: string; dc: string } | undefined {
    const match = /^\/mailchimp\/([^/]+)\/3\.0(\/.*)?$/.exec(pathname);
    return match ? { dc: decodeURIComponent(match[1]), path: match[2] ?? '/' } : undefined;
  }

  authenticate(request: EspRequest): FakeAccount | EspResponse {
    const key = basicPassword(request) ?? bearerToken(request);
    if (!key) {
      return mailchimpProblem(401, 'API Key Missing', 'Your request did not include an API key.');
    }
    const account = this.registry.accountByKey('mailchimp', key);
    return account && account.dataCenter === request.dc ? account : keyInvalid();
  }

  route(request: EspRequest, account: FakeAccount): EspRoute {
    const segments = request.path.split('/').filter(Boolean).map(decodeURIComponent);
    if (request.method !== 'GET') return notFound();
    if (segments.length === 1 && segments[0] === 'ping') {
      return { handle: () => ({ status: 200, body: { health_status: "Everything's Chimpy!" } }) };
    }
    if (segments[0] !== 'lists' || segments.length > 3) return notFound();
    if (segments.length === 1) return { handle: () => this.lists(request, account) };
    const list = account.list(segments[1]);
    if (!list) return notFound();
    if (segments.length === 2) {
      const webId = 1000 + account.lists.indexOf(list);
      return { list, handle: () => ({ status: 200, body: mailchimpList(list, webId) }) };
    }
    if (segments[2] !== 'members') return notFound();
    return { list, handle: () => this.members(request, list) };
  }

  failure(failure: EspFailure): EspResponse {
    if (failure.kind === 'too-many-connections') return tooManyConnections(MAX_CONNECTIONS);
    if (failure.kind === 'server-error') {
      return mailchimpProblem(
        failure.status,
        'Internal Server Error',
        'An unexpected internal error has occurred. Please contact Support for more information.',
      );
    }
    const response = mailchimpProblem(
      429,
      'Too Many Requests',
      'You have made too many requests. Please try again later.',
    );
    const { retryAfterSeconds, omitRetryAfter } = rateLimitHint(failure);
    if (!omitRetryAfter) {
      response.headers = { ...response.headers, 'Retry-After': String(retryAfterSeconds) };
    }
    return response;
  }

  /** Applies `fields`/`exclude_fields` to successful bodies and adds X-Request-Id. */
  finish(response: EspResponse, request: EspRequest): EspResponse {
    if (response.status === 200 && response.rawBody === undefined) {
      response.body = projectFields(
        response.body,
        queryValue(request, 'fields'),
        queryValue(request, 'exclude_fields'),
      );
    }
    response.headers = { 'X-Request-Id': randomUUID(), ...response.headers };
    return response;
  }

  private lists(request: EspRequest, account: FakeAccount): EspResponse {
    const count = intParam(request, 'count', 10);
    const offset = intParam(request, 'offset', 0);
    if (!inRange(count, 0, MAX_COUNT)) return badRequest(`count must be from 0 to ${MAX_COUNT}`);
    if (!inRange(offset, 0, Number.MAX_SAFE_INTEGER)) return badRequest('offset must be 0 or more');
    const lists = account.lists.slice(offset, offset + count);
    return {
      status: 200,
      body: {
        lists: lists.map((list) => mailchimpList(list, 1000 + account.lists.indexOf(list))),
        total_items: account.lists.length,
        constraints: {
          may_create: false,
          max_instances: account.lists.length,
          current_total_instances: account.lists.length,
        },
        _links: [],
      },
    };
  }

  private members(request: EspRequest, list: FakeList): EspResponse {
    const count = intParam(request, 'count', 10);
    const offset = intParam(request, 'offset', 0);
    if (!inRange(count, 0, MAX_COUNT)) {
      return badRequest(`count must be from 0 to ${MAX_COUNT}`);
    }
    if (!inRange(offset, 0, Number.MAX_SAFE_INTEGER)) return badRequest('offset must be 0 or more');
    const status = queryValue(request, 'status');
    const mask = status === undefined ? ALL_CATEGORIES : MAILCHIMP_STATUS_FILTERS[status];
    if (mask === undefined) return badRequest(`status '${status}' is not a valid member status`);
    const wanted = projectionKeeps(
      'members',
      queryValue(request, 'fields'),
      queryValue(request, 'exclude_fields'),
    );
    let changed: SortedIndices | undefined;
    const since = queryValue(request, 'since_last_changed');
    if (since !== undefined) {
      const at = Date.parse(since);
      if (!Number.isFinite(at)) return badRequest('since_last_changed must be an ISO 8601 time');
      // Members whose last_changed (whole seconds) is after that moment.
      changed = new SortedIndices(list.changedSince(Math.floor(at / 1000) + 1, mask));
    }
    const first =
      wanted && count > 0 ? (changed ? changed.nth(offset) : list.nth(offset, mask)) : undefined;
    const indices =
      first === undefined
        ? []
        : changed
          ? changed.collect(first, 1, count)
          : list.collect(first, 1, mask, count);
    return {
      status: 200,
      body: {
        members: indices.map((index) => mailchimpMember(list, list.record(index))),
        list_id: list.id,
        total_items: changed ? changed.count : list.count(mask),
        _links: [],
      },
    };
  }
}

function tooManyConnections(limit: number): EspResponse {
  const response = mailchimpProblem(
    429,
    'Too Many Requests',
    `You have exceeded the limit of ${limit} simultaneous connections.`,
  );
  response.headers = { ...response.headers, 'Retry-After': '1' };
  return response;
}

function basicPassword(request: EspRequest): string | undefined {
  const match = /^Basic\s+(.+)$/i.exec(request.headers.authorization ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1].trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 && colon < decoded.length - 1 ? decoded.slice(colon + 1) : undefined;
}
