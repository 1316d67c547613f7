import type { FakeRateLimits } from './fake-rate-limits';

/** The public contract of the fake ESP server: what tests, the demo and benchmarks configure. */

export type FakeEspType = 'beehiiv' | 'kit' | 'mailchimp';

export const FAKE_ESP_TYPES: readonly FakeEspType[] = ['beehiiv', 'kit', 'mailchimp'];

export interface FakeServerErrorBurst {
  afterRequests: number;
  count: number;
  /** Status of the burst's answers (default 500). */
  status?: 500 | 502 | 503;
}

export interface FakeFaults {
  /** Delay added to every request touching this list. */
  latencyMs?: number;
  /** Every Nth request touching this list answers 429 (vendor body shape). */
  rateLimitEvery?: number;
  /**
   * Seconds those 429s ask the client to wait (default 1): their Retry-After header, and for
   * beehiiv also RateLimit-Reset (now + this, epoch seconds) with RateLimit-Remaining: 0.
   */
  retryAfterSeconds?: number;
  /**
   * Those 429s carry no Retry-After. beehiiv's then say when to come back only through
   * RateLimit-Reset (epoch seconds) and RateLimit-Remaining: 0, as its docs describe; Kit's and
   * Mailchimp's carry no hint at all (their headers are undocumented).
   */
  omitRetryAfter?: boolean;
  /**
   * Requests afterRequests+1 .. afterRequests+count touching the list answer 500 (or 502/503),
   * then normal again.
   */
  serverErrorBurst?: FakeServerErrorBurst;
  /** The Nth request touching the list answers 200 with an invalid (truncated) JSON body. */
  malformedBodyOnRequest?: number;
}

export interface FakeListSpec {
  /** beehiiv publication id (e.g. 'pub_demo'), Mailchimp list id, or for Kit the account id. */
  id: string;
  name: string;
  /** 0 .. millions; never materialised in memory. */
  size: number;
  /** Default derived from id. */
  seed?: number;
  /**
   * Every Nth generated subscriber (indices N-1, 2N-1, ...) gets, in turn, one of the vendor's
   * statuses that map to none of active/unsubscribed/bounced: beehiiv validating, pending,
   * needs_attention, paused; Kit inactive; Mailchimp pending, transactional, archived. The
   * vendors' status filters and counts include them as the real APIs do. Default: none.
   */
  otherStatusEvery?: number;
  /**
   * Subscribers whose address or names are not what the generator makes, by index: the odd rows
   * a real list holds (a 300-character first name, control characters, an address the vendor
   * let through malformed). Served exactly as given.
   */
  oddIdentities?: Record<number, Partial<FakeSubscriberIdentity>>;
  faults?: FakeFaults;
}

/** What `oddIdentities` may replace. */
export interface FakeSubscriberIdentity {
  email: string;
  firstName: string;
  lastName: string;
}

export interface FakeAccountSpec {
  esp: FakeEspType;
  /** Mailchimp keys end in '-<dc>', e.g. 'key123-us6'. */
  apiKey: string;
  /** Kit: exactly one list (a Kit account is one list; its id = account id). */
  lists: FakeListSpec[];
  /** beehiiv only: where has_more/next_cursor live (default top-level). */
  beehiivPagination?: 'top-level' | 'nested';
}

export interface RecordedRequest {
  esp: FakeEspType;
  method: string;
  /** Relative to the ESP base URL, e.g. '/publications/pub_1/subscriptions'. */
  path: string;
  query: Record<string, string | string[]>;
  /** Lower-cased names. */
  headers: Record<string, string>;
  status: number;
  /** Mailchimp only: the data centre the request was sent to (`/mailchimp/{dc}/3.0/...`). */
  dc?: string;
}

export interface FakeSubscriberView {
  externalId: string;
  email: string;
  /** Our model's status; 'other' for a vendor status it does not sync (see `otherStatusEvery`). */
  status: 'active' | 'unsubscribed' | 'bounced' | 'other';
  /** The vendor's own status: 'subscribed', 'cancelled', 'complained', 'archived', ... */
  rawStatus: string;
}

/** External ids of the subscribers each change touched. */
export interface FakeMutationResult {
  added: string[];
  /** Profile changes: a new first name, the status kept. */
  changed: string[];
  unsubscribed: string[];
  bounced: string[];
  removed: string[];
}

export interface FakeMutation {
  add?: number;
  /** Subscribers whose first name changes (any status): an update a change filter must find. */
  change?: number;
  unsubscribe?: number;
  bounce?: number;
  remove?: number;
}

export interface FakeEspServerOptions {
  accounts: FakeAccountSpec[];
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** A key and certificate (PEM): serve HTTPS instead of HTTP. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Default true; the benchmark turns it off. */
  recordRequests?: boolean;
  /**
   * Request limits to enforce with 429s (fake-rate-limits.ts): `'documented'` for the vendors'
   * documented ones, or some of them overridden (a short window for a fast test). Default: only
   * Mailchimp's 10 requests in flight.
   */
  rateLimits?: 'documented' | FakeRateLimits;
  /**
   * The ESP's clock (ms since the epoch): every answer's Date header, the changed times of
   * mutations, beehiiv's RateLimit-Reset and the request windows; default Date.now. Tests pin it
   * to make Reset exact. Latency is always real time.
   */
  now?: () => number;
}
