import { FakeEspType } from './fake-esp-types';
import { FakeList } from './fake-list';

/** A request as a vendor's routes see it, with the path relative to the ESP's base URL. */
export interface EspRequest {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  /** Mailchimp only: the data centre named in the URL. */
  dc?: string;
  /** beehiiv: the request window it was admitted in, for the RateLimit-* headers. */
  window?: { limit: number; remaining: number; resetEpochSeconds: number };
}

/** What a route answers; the server serialises `body` as JSON unless `rawBody` is set. */
export interface EspResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Sent verbatim instead of JSON.stringify(body) (the malformed-body fault). */
  rawBody?: string;
}

/** A matched route: the list it touches (for fault injection) and how to answer. */
export interface EspRoute {
  list?: FakeList;
  handle(): EspResponse;
}

export type EspFailure =
  | { kind: 'rate-limited'; retryAfterSeconds: number; omitRetryAfter: boolean }
  | { kind: 'too-many-connections' }
  | { kind: 'server-error'; status: number };

/** One vendor's dialect: URL prefix, authentication, routes and error bodies. */
export interface EspVendor<Account> {
  readonly esp: FakeEspType;
  /** Strips the vendor's prefix from a URL path; undefined when the path is not this vendor's. */
  matchPath(pathname: string): { path: string; dc?: string } | undefined;
  /** The account the credentials name, or the vendor's 401. */
  authenticate(request: EspRequest): Account | EspResponse;
  /**
   * The request counted against the account's limits (fake-rate-limits.ts), or the vendor's 429
   * when it is over one.
   */
  admit(request: EspRequest, account: Account): EspResponse | undefined;
  route(request: EspRequest, account: Account): EspRoute;
  failure(failure: EspFailure, request: EspRequest): EspResponse;
  /** Adds the headers every response of this vendor carries. */
  finish(response: EspResponse, request: EspRequest, account: Account | undefined): EspResponse;
}

/** What a 429 tells the client: an injected fault's settings, else Retry-After 1. */
export function rateLimitHint(failure: EspFailure): {
  retryAfterSeconds: number;
  omitRetryAfter: boolean;
} {
  return failure.kind === 'rate-limited'
    ? { retryAfterSeconds: failure.retryAfterSeconds, omitRetryAfter: failure.omitRetryAfter }
    : { retryAfterSeconds: 1, omitRetryAfter: false };
}

export function isEspResponse(value: unknown): value is EspResponse {
  return typeof value === 'object' && value !== null && 'status' in value && 'body' in value;
}

/** The first value of a query parameter. */
export function queryValue(request: EspRequest, name: string): string | undefined {
  const value = request.query[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Every value of a query parameter (repeated or comma-separated). */
export function queryValues(request: EspRequest, ...names: string[]): string[] {
  return names.flatMap((name) => {
    const value = request.query[name];
    const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
    return values.flatMap((v) => v.split(',')).filter((v) => v !== '');
  });
}

/**
 * An integer query parameter: its default when absent, NaN when it is not a whole number (the
 * caller turns NaN and out-of-range values into the vendor's 400 or 422).
 */
export function intParam(request: EspRequest, name: string, fallback: number): number {
  const value = queryValue(request, name);
  if (value === undefined || value === '') return fallback;
  return /^-?\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
}

export function inRange(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

export function bearerToken(request: EspRequest): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
  return match?.[1]?.trim();
}
